#!/usr/bin/env python3
"""The whole topology on loopback, without containers: the fast stage of `make test-e2e`.

The same services as the compose stack, from the same files, as host processes on 127.0.0.1:

  api-v1 x 3, api-v2    emotion-api (release build of this checkout), model/emotion-model.bin
  nginx                 the host's nginx (Debian 12: 1.22, the oldest we test) with nginx/nginx.conf,
                        nginx/ as its `gateway/` folder and the parameters of nginx/render-params.sh:
                        static upstream addresses and UDP syslog, as the NixOS module renders them
  access-log-exporter   the metrics feed from nginx's syslog
  nginx-exporter        prometheus-nginx-exporter on nginx's stub_status
  prometheus            monitoring/prometheus/prometheus.yml with only its targets swapped, which is
                        what the NixOS module does (nix/modules/monitoring.nix), and its rules in place
  alertmanager          monitoring/alertmanager/alertmanager.yml with only the webhook URL swapped
  alert-receiver        the webhook's target

Nothing here is a copy of the gateway or monitoring configuration: a change to nginx/ or
monitoring/ is under test here as it is in compose and NixOS. Then one command runs against it:
by default the e2e suite (tests/e2e/run.py) with its monitoring checks and the failover hooks;
otherwise what follows `--`. Either way the command finds the deployment in its environment: the
suite's E2E_* variables (E2E_BASE_URL, E2E_PROMETHEUS_URL, ...) and HARNESS_* for the rest
(printed at start). Everything started is stopped at the end; the logs are kept on failure.

Usage (root, because nginx's master hands its workers to the worker user):
  tests/harness/loopback.py                      # the e2e suite
  tests/harness/loopback.py -- COMMAND [ARG...]  # anything else against the same topology

Ports: from a base B (HARNESS_PORT_BASE, default the first of 18000, 21000, ... that is free):
APIs B+1..B+4 (metrics B+101..B+104), nginx HTTP B+80, HTTPS B+443, stub_status B+81, exporter
syslog B+514/udp and metrics B+114, nginx-exporter B+113, Prometheus B+90, Alertmanager B+93,
alert-receiver B+95. Clients use 127.0.0.1, a SAN of the certificate, never `localhost`, which
may resolve to ::1 where something else listens on the same port.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from cli import read_env_file  # noqa: E402

NGINX = os.environ.get("NGINX_BIN", "nginx")
PROMETHEUS = os.environ.get("PROMETHEUS_BIN", "prometheus")
ALERTMANAGER = os.environ.get("ALERTMANAGER_BIN", "prometheus-alertmanager")
NGINX_EXPORTER = os.environ.get("NGINX_EXPORTER_BIN", "prometheus-nginx-exporter")
V1_REPLICAS = 3
BASES = (18000, 21000, 24000, 27000, 30000, 33000)
# Offsets from the port base: one table, read by the rest of the file.
PORT = {
    "http": 80,
    "https": 443,
    "status": 81,
    "syslog": 514,
    "exporter": 114,
    "nginx_exporter": 113,
    "prometheus": 90,
    "alertmanager": 93,
    "receiver": 95,
}


def api_port(base: int, i: int) -> int:
    return base + i


def api_metrics_port(base: int, i: int) -> int:
    return base + 100 + i


def ports(base: int) -> list[int]:
    apis = [f(base, i) for i in range(1, V1_REPLICAS + 2) for f in (api_port, api_metrics_port)]
    return apis + [base + offset for offset in PORT.values()]


def free(base: int) -> bool:
    """Can every port of this base be bound on 127.0.0.1 (TCP, and UDP for syslog)?"""
    for port in ports(base):
        for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
            with socket.socket(socket.AF_INET, kind) as s:
                # As the servers do: a port whose last connections linger in TIME_WAIT is free.
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    return False
    return True


def port_base() -> int:
    if os.environ.get("HARNESS_PORT_BASE"):
        return int(os.environ["HARNESS_PORT_BASE"])
    for base in BASES:
        if free(base):
            return base
    raise SystemExit(f"loopback: no free port range among {BASES}")


def addr(port: int) -> str:
    return f"127.0.0.1:{port}"


# --------------------------------------------------------------------------- configuration


def prometheus_yml(text: str, targets: dict[str, list[str]], rules: pathlib.Path, alertmanager: str) -> str:
    """prometheus.yml as written for compose with each job's targets swapped for static ones.

    The algorithm of nix/modules/monitoring.nix: the file is split at `- job_name:` lines, every
    job named in `targets` gets a static_configs list in place of its discovery, the rule path
    becomes absolute and the alerting block points at this Alertmanager. A needle that is no
    longer in the file stops the run, so a change to prometheus.yml cannot silently escape it.
    """
    separator = "\n  - job_name: "
    header, *jobs = text.split(separator)
    names = [job.split("\n", 1)[0] for job in jobs]
    if missing := sorted(set(targets) - set(names)) or sorted(set(names) - set(targets)):
        raise SystemExit(
            f"loopback: prometheus.yml jobs {names} do not match the harness's {sorted(targets)}: {missing}"
        )
    for needle, replacement in (
        ("  - rules/*.yml", f"  - {rules}/*.yml"),
        ('"alertmanager:9093"', json.dumps(alertmanager)),
    ):
        if needle not in header:
            raise SystemExit(f"loopback: prometheus.yml no longer contains {needle!r}")
        header = header.replace(needle, replacement)
    rendered = [f"{name}\n    static_configs:\n      - targets: {json.dumps(targets[name])}\n" for name in names]
    return separator.join([header, *rendered])


def swap(text: str, needle: str, replacement: str, what: str) -> str:
    if needle not in text:
        raise SystemExit(f"loopback: {what} no longer contains {needle!r}")
    return text.replace(needle, replacement)


def worker_user() -> str:
    built = subprocess.run([NGINX, "-V"], capture_output=True, text=True).stderr
    match = re.search(r"--user=(\S+)", built)
    return match.group(1) if match else "nobody"


# --------------------------------------------------------------------------- processes


class Topology:
    """The processes of one run, their work directory, and how to stop them."""

    def __init__(self, base: int, work: pathlib.Path, bindir: pathlib.Path):
        self.base, self.work, self.bindir = base, work, bindir
        self.logs = work / "logs"
        self.logs.mkdir()
        self.procs: dict[str, subprocess.Popen] = {}

    def port(self, name: str) -> int:
        return self.base + PORT[name]

    def url(self, name: str, scheme: str = "http") -> str:
        return f"{scheme}://{addr(self.port(name))}"

    def spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> None:
        log = open(self.logs / f"{name}.log", "w")
        self.procs[name] = subprocess.Popen(
            argv, env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT
        )

    def wait_http(self, name: str, url: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            proc = self.procs.get(name)
            if proc is not None and proc.poll() is not None:
                raise SystemExit(f"loopback: {name} exited with {proc.returncode}:\n{self.tail(name)}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"loopback: {name} not ready at {url} after {timeout:.0f} s:\n{self.tail(name)}")

    def tail(self, name: str, lines: int = 20) -> str:
        path = self.logs / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def stop(self) -> None:
        # The replica the failover hook restarted is not our child: it left its PID in a file.
        victim = self.work / "victim.pid"
        if victim.exists():
            try:
                os.kill(int(victim.read_text()), signal.SIGTERM)
            except (ProcessLookupError, ValueError):
                pass
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def api_env(top: Topology, i: int) -> dict[str, str]:
    variant = "v1" if i <= V1_REPLICAS else "v2"
    return {
        "EMOTION_VARIANT": variant,
        "EMOTION_HTTP_ADDR": addr(api_port(top.base, i)),
        "EMOTION_METRICS_ADDR": addr(api_metrics_port(top.base, i)),
        "EMOTION_INSTANCE_ID": f"loopback-{variant}-{i}",
        "EMOTION_MODEL_PATH": str(ROOT / "model/emotion-model.bin"),
        "EMOTION_TRUSTED_PROXIES": "127.0.0.1/32",
        "RUST_LOG": "warn",
    }


def start_apis(top: Topology) -> None:
    for i in range(1, V1_REPLICAS + 2):
        top.spawn(f"api-{i}", [str(top.bindir / "emotion-api")], api_env(top, i))


def start_gateway(top: Topology) -> None:
    """nginx with the repository's nginx.conf, nginx/ and render-params.sh, as NixOS runs it."""
    work = top.work
    conf = (ROOT / "nginx/nginx.conf").read_text()
    (work / "nginx.conf").write_text(re.sub(r"(?m)^pid .*$", f"pid {work}/nginx.pid;", conf))
    (work / "gateway").symlink_to(ROOT / "nginx")
    params = work / "params"
    params.mkdir(mode=0o755)
    # The secret and the page are copied where the worker user can read them, as the secret hook
    # of the images does: the checkout's folders need not be readable by that user.
    shutil.copy(ROOT / "secrets/htpasswd", params / "htpasswd")
    shutil.chown(params / "htpasswd", user=worker_user())
    os.chmod(params / "htpasswd", 0o400)
    shutil.copytree(ROOT / "nginx/www", work / "www")
    subprocess.run(["chmod", "-R", "a+rX", str(work / "www")], check=True)
    v1 = " ".join(addr(api_port(top.base, i)) for i in range(1, V1_REPLICAS + 1))
    env = {
        "API_V1_SERVERS": v1,
        "API_V2_SERVERS": addr(api_port(top.base, V1_REPLICAS + 1)),
        "UPSTREAM_RESOLVER": "",
        "ACCESS_LOG_SYSLOG": addr(top.port("syslog")),
        "SERVER_NAME": "127.0.0.1",
        "LISTEN_HTTP": addr(top.port("http")),
        "LISTEN_HTTPS": addr(top.port("https")),
        "LISTEN_STATUS": addr(top.port("status")),
        "TLS_SOCKET": str(work / "tls.sock"),
        "HTTPS_PORT": str(top.port("https")),
        "TLS_CERT": str(ROOT / "secrets/tls.crt"),
        "TLS_KEY": str(ROOT / "secrets/tls.key"),
        "HTPASSWD": str(params / "htpasswd"),
        "WEB_ROOT": str(work / "www"),
    }
    subprocess.run(["sh", str(ROOT / "nginx/render-params.sh"), str(params)], env={**os.environ, **env}, check=True)
    subprocess.run([NGINX, "-v"], check=True)
    subprocess.run([NGINX, "-t", "-q", "-p", str(work), "-c", str(work / "nginx.conf")], check=True)
    top.spawn("nginx", [NGINX, "-p", str(work), "-c", str(work / "nginx.conf"), "-g", "daemon off;"])


def start_monitoring(top: Topology) -> None:
    """The exporters, the alerting path and Prometheus, from monitoring/ with addresses swapped."""
    bindir, work = top.bindir, top.work
    top.spawn(
        "access-log-exporter",
        [str(bindir / "access-log-exporter")],
        {"EXPORTER_SYSLOG_ADDR": addr(top.port("syslog")), "EXPORTER_METRICS_ADDR": addr(top.port("exporter"))},
    )
    top.spawn("alert-receiver", [str(bindir / "alert-receiver")], {"ALERT_RECEIVER_ADDR": addr(top.port("receiver"))})
    alertmanager_yml = swap(
        (ROOT / "monitoring/alertmanager/alertmanager.yml").read_text(),
        "http://alert-receiver:9095/alerts",
        f"{top.url('receiver')}/alerts",
        "alertmanager.yml",
    )
    (work / "alertmanager.yml").write_text(alertmanager_yml)
    top.spawn(
        "alertmanager",
        [
            ALERTMANAGER,
            f"--config.file={work}/alertmanager.yml",
            f"--storage.path={work}/alertmanager-data",
            f"--web.listen-address={addr(top.port('alertmanager'))}",
            "--cluster.listen-address=",
        ],
    )
    targets = {
        "prometheus": [addr(top.port("prometheus"))],
        "nginx": [addr(top.port("nginx_exporter"))],
        "gateway-log": [addr(top.port("exporter"))],
        "api-v1": [addr(api_metrics_port(top.base, i)) for i in range(1, V1_REPLICAS + 1)],
        "api-v2": [addr(api_metrics_port(top.base, V1_REPLICAS + 1))],
        "alertmanager": [addr(top.port("alertmanager"))],
        "alert-receiver": [addr(top.port("receiver"))],
    }
    text = (ROOT / "monitoring/prometheus/prometheus.yml").read_text()
    rules = ROOT / "monitoring/prometheus/rules"
    (work / "prometheus.yml").write_text(prometheus_yml(text, targets, rules, addr(top.port("alertmanager"))))
    top.spawn(
        "prometheus",
        [
            PROMETHEUS,
            f"--config.file={work}/prometheus.yml",
            f"--storage.tsdb.path={work}/prometheus-data",
            f"--web.listen-address={addr(top.port('prometheus'))}",
        ],
    )


def start_nginx_exporter(top: Topology) -> None:
    # Debian's exporter (0.11) exits when stub_status is unreachable at start, hence after nginx.
    top.spawn(
        "nginx-exporter",
        [
            NGINX_EXPORTER,
            "-nginx.scrape-uri",
            f"{top.url('status')}/stub_status",
            "-web.listen-address",
            addr(top.port("nginx_exporter")),
        ],
    )


def failover_hooks(top: Topology) -> tuple[str, str]:
    """Shell commands that stop the first v1 replica and start it again (the suite's failover check)."""
    victim = top.work / "victim.pid"
    victim.write_text(str(top.procs["api-1"].pid))
    env = " ".join(f"{k}={shlex.quote(v)}" for k, v in api_env(top, 1).items())
    ready = f"http://{addr(api_port(top.base, 1))}/health/ready"
    stop = f"kill $(cat {victim})"
    start = (
        f"env {env} {top.bindir}/emotion-api >>{top.logs}/api-1.log 2>&1 & echo $! >{victim}; "
        f"for i in $(seq 300); do curl -fsS -o /dev/null {ready} 2>/dev/null && exit 0; sleep 0.2; done; exit 1"
    )
    return stop, start


def second_client(top: Topology) -> str:
    """Five /predict requests from another source address (127.0.0.2), one status per line."""
    curl = (
        f"curl -s --interface 127.0.0.2 --cacert {ROOT}/secrets/tls.crt -o /dev/null -w '%{{http_code}}\\n' "
        f"-u \"$E2E_USER:$E2E_PASSWORD\" -H 'Content-Type: application/json' "
        f'-d \'{{"sentence":"hello there"}}\' {top.url("https", "https")}/predict'
    )
    return f"for i in 1 2 3 4 5; do {curl}; done"


def deployment_env(top: Topology) -> dict[str, str]:
    """Where everything is, for the command run against the topology."""
    stop, start = failover_hooks(top)
    return {
        "E2E_BASE_URL": top.url("https", "https"),
        "E2E_HTTP_URL": top.url("http"),
        "E2E_CACERT": str(ROOT / "secrets/tls.crt"),
        "E2E_CREDENTIALS_FILE": str(ROOT / "secrets/credentials.env"),
        "E2E_PROMETHEUS_URL": top.url("prometheus"),
        "E2E_V1_REPLICAS": str(V1_REPLICAS),
        "E2E_STOP_REPLICA_CMD": stop,
        "E2E_START_REPLICA_CMD": start,
        "E2E_SECOND_CLIENT_CMD": second_client(top),
        "HARNESS_STATUS_URL": f"{top.url('status')}/stub_status",
        "HARNESS_API_V1_URLS": " ".join(f"http://{addr(api_port(top.base, i))}" for i in range(1, V1_REPLICAS + 1)),
        "HARNESS_API_V2_URL": f"http://{addr(api_port(top.base, V1_REPLICAS + 1))}",
        "HARNESS_EXPORTER_URL": top.url("exporter"),
        "HARNESS_ALERTMANAGER_URL": top.url("alertmanager"),
        "HARNESS_RECEIVER_URL": top.url("receiver"),
    }


# --------------------------------------------------------------------------- main


def build() -> pathlib.Path:
    packages = ("emotion-api", "access-log-exporter", "alert-receiver")
    cargo = ["cargo", "build", "--release", "--locked", *(arg for p in packages for arg in ("-p", p))]
    subprocess.run(cargo, cwd=ROOT, check=True)
    meta = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps"], cwd=ROOT, check=True, capture_output=True
    )
    return pathlib.Path(json.loads(meta.stdout)["target_directory"]) / "release"


def main(argv: list[str]) -> int:
    command = argv[argv.index("--") + 1 :] if "--" in argv else []
    if argv and argv[0] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    if not (ROOT / "model/emotion-model.bin").is_file():
        raise SystemExit("loopback: model/emotion-model.bin missing: run make train")
    for tool in (NGINX, PROMETHEUS, ALERTMANAGER, NGINX_EXPORTER):
        if shutil.which(tool) is None:
            raise SystemExit(f"loopback: {tool} not on PATH (scripts/prerequisites.sh test installs it)")
    subprocess.run(["scripts/certs.sh", "secrets"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["scripts/credentials.sh", "secrets"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    bindir = build()
    base = port_base()
    work = pathlib.Path(tempfile.mkdtemp(prefix="egw-loopback."))
    os.chmod(work, 0o755)  # nginx's workers read the params and the page below it
    top = Topology(base, work, bindir)
    status = 1
    try:
        # The APIs share the feedback receipts' key with compose's (secrets/feedback.env), so
        # the suite's feedback check has receipts it can verify.
        os.environ["EMOTION_FEEDBACK_KEY"] = read_env_file(str(ROOT / "secrets/feedback.env"))["EMOTION_FEEDBACK_KEY"]
        start_apis(top)
        start_monitoring(top)
        start_gateway(top)
        for i in range(1, V1_REPLICAS + 2):
            top.wait_http(f"api-{i}", f"http://{addr(api_port(base, i))}/health/ready")
        top.wait_http("nginx", f"{top.url('status')}/stub_status")
        start_nginx_exporter(top)
        top.wait_http("nginx-exporter", f"{top.url('nginx_exporter')}/metrics")
        top.wait_http("access-log-exporter", f"{top.url('exporter')}/health/ready")
        top.wait_http("alert-receiver", f"{top.url('receiver')}/health/ready")
        top.wait_http("alertmanager", f"{top.url('alertmanager')}/-/ready")
        top.wait_http("prometheus", f"{top.url('prometheus')}/-/ready")
        env = deployment_env(top)
        print(f"loopback: ports from {base}, work directory {work}")
        for key, value in env.items():
            if not key.endswith("_CMD"):
                print(f"  {key}={value}")
        sys.stdout.flush()
        command = command or [sys.executable, str(ROOT / "tests/e2e/run.py")]
        status = subprocess.run(command, cwd=ROOT, env={**os.environ, **env}).returncode
    finally:
        top.stop()
        if status == 0:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"--- nginx error log\n{top.tail('nginx')}\nloopback: logs kept in {top.logs}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
