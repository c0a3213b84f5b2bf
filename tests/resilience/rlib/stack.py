"""The running compose stack: containers by service, networks, credentials, docker helpers.

Discovery rather than configuration: the containers are found by their compose labels
(service name, and the project whose working directory is this checkout), so the suite works for
any project name and whether replicas come from `scale` or `deploy.replicas`.
Override with RESIL_COMPOSE_PROJECT when several checkouts run stacks at once.
"""

import json
import os
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
BUILD = REPO / "build" / "resilience"


def sh(cmd, check=True, timeout=300, input=None, env=None):
    """Run a command (list), return CompletedProcess with text output."""
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, input=input, env=env)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} -> {p.returncode}: {p.stderr.strip()[-800:]}")
    return p


def docker_inspect(ids):
    if not ids:
        return []
    return json.loads(sh(["docker", "inspect", *ids]).stdout)


class Container:
    """One container of the stack, as docker inspect saw it."""

    def __init__(self, raw):
        self.raw = raw
        self.id = raw["Id"]
        self.name = raw["Name"].lstrip("/")
        labels = raw["Config"].get("Labels") or {}
        self.service = labels.get("com.docker.compose.service", "")
        self.number = int(labels.get("com.docker.compose.container-number", "0") or 0)
        self.hostname = raw["Config"].get("Hostname", "")
        self.env = dict(e.split("=", 1) for e in raw["Config"].get("Env") or [] if "=" in e)
        self.image = raw["Config"].get("Image", "")
        self.networks = {n: v.get("IPAddress") for n, v in raw["NetworkSettings"]["Networks"].items()}
        self.pid = raw["State"].get("Pid", 0)
        self.running = raw["State"].get("Running", False)
        self.health = (raw["State"].get("Health") or {}).get("Status", "")

    @property
    def instance_id(self):
        """What the API reports in X-Instance: EMOTION_INSTANCE_ID, else the hostname."""
        return self.env.get("EMOTION_INSTANCE_ID") or self.hostname

    def ip(self, network_hint=""):
        for n, ip in self.networks.items():
            if network_hint in n and ip:
                return ip
        return next((ip for ip in self.networks.values() if ip), "")

    def __repr__(self):
        return f"<{self.name} {self.service}#{self.number}>"


class Stack:
    """The compose project of this checkout."""

    def __init__(self, project=None):
        self.project = project or os.environ.get("RESIL_COMPOSE_PROJECT") or self._discover_project()

    @staticmethod
    def _discover_project():
        out = sh(
            [
                "docker",
                "ps",
                "-a",
                "--filter",
                "label=com.docker.compose.service=nginx",
                "--format",
                '{{.Label "com.docker.compose.project"}}\t{{.Label "com.docker.compose.project.working_dir"}}',
            ]
        ).stdout
        rows = [line.split("\t") for line in out.splitlines() if line.strip()]
        mine = [p for p, wd in rows if wd and Path(wd).resolve() == REPO]
        if mine:
            return mine[0]
        if len(rows) == 1:
            return rows[0][0]
        # scripts/stack-env.sh's default project name.
        return os.environ.get("COMPOSE_PROJECT_NAME", "emotion-gateway")

    def containers(self, service=None, running_only=False):
        cmd = ["docker", "ps", "-q", "--filter", f"label=com.docker.compose.project={self.project}"]
        if not running_only:
            cmd.insert(2, "-a")
        if service:
            cmd += ["--filter", f"label=com.docker.compose.service={service}"]
        ids = sh(cmd).stdout.split()
        cs = [Container(r) for r in docker_inspect(ids)]
        # One-off containers (docker compose run) are not replicas.
        cs = [c for c in cs if (c.raw["Config"].get("Labels") or {}).get("com.docker.compose.oneoff") != "True"]
        return sorted(cs, key=lambda c: (c.service, c.number))

    def one(self, service):
        cs = self.containers(service)
        if not cs:
            raise RuntimeError(f"no container for service {service!r} in project {self.project!r}")
        return cs[0]

    def is_up(self):
        try:
            return bool(self.containers("nginx", running_only=True))
        except RuntimeError:
            return False

    def frontend_network(self):
        """The network clients reach Nginx on (the one the host-facing port is published from)."""
        nginx = self.one("nginx")
        names = list(nginx.networks)
        for n in names:
            if "front" in n:
                return n
        for n in names:
            if "back" not in n:
                return n
        return names[0]

    def compose_cmd(self, *extra_files):
        """`docker compose` with the same files the stack was started with, plus `extra_files`."""
        nginx = self.one("nginx")
        labels = nginx.raw["Config"].get("Labels") or {}
        wd = labels.get("com.docker.compose.project.working_dir", str(REPO))
        files = [f for f in labels.get("com.docker.compose.project.config_files", "").split(",") if f]
        if not files:
            files = [str(REPO / "compose.yaml")]
        cmd = ["docker", "compose", "-p", self.project, "--project-directory", wd]
        for f in files + [str(x) for x in extra_files]:
            cmd += ["-f", f]
        return cmd

    def wait_ready(self, container, timeout=60):
        """Wait until the container runs and (if it has a healthcheck) is healthy."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            c = Container(docker_inspect([container.id])[0])
            if c.running and c.health in ("", "healthy"):
                return c
            time.sleep(0.5)
        raise RuntimeError(f"{container.name} not ready after {timeout}s (health={c.health!r})")


def credentials():
    """(user, password) of the gateway's basic auth, from the environment or secrets/.

    RESIL_BASIC_USER / RESIL_BASIC_PASSWORD win; otherwise the generated files under secrets/.
    """
    user = os.environ.get("RESIL_BASIC_USER")
    pw = os.environ.get("RESIL_BASIC_PASSWORD")
    if user and pw:
        return user, pw
    sec = REPO / "secrets"
    env_file = {}
    for name in ("credentials.env", "gateway.env", ".env", "basic-auth.env"):
        p = sec / name
        if p.exists():
            for line in p.read_text().splitlines():
                if "=" in line and not line.lstrip().startswith("#"):
                    k, v = line.split("=", 1)
                    env_file[k.strip()] = v.strip().strip('"').strip("'")
    for uk, pk in (
        ("BASIC_AUTH_USER", "BASIC_AUTH_PASSWORD"),
        ("GATEWAY_USER", "GATEWAY_PASSWORD"),
        ("API_USER", "API_PASSWORD"),
    ):
        if env_file.get(uk) and env_file.get(pk):
            return env_file[uk], env_file[pk]
    pairs = [
        ("basic_auth_user", "basic_auth_password"),
        ("api_user", "api_password"),
        ("gateway_user", "gateway_password"),
        ("username", "password"),
    ]
    for uf, pf in pairs:
        if (sec / uf).exists() and (sec / pf).exists():
            return (sec / uf).read_text().strip(), (sec / pf).read_text().strip()
    raise RuntimeError(
        "no basic-auth credentials: set RESIL_BASIC_USER/RESIL_BASIC_PASSWORD or run the setup that writes secrets/"
    )
