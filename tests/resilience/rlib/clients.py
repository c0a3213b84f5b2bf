"""Client addresses on the stack's own network: one tiny container per client, load from the host.

Nginx limits per client address, and every connection from the host arrives from one address
(docker's proxy or the bridge gateway). So each simulated client is a container attached to the
compose frontend network (docker's IPAM gives it its own address) that only sleeps; the suite runs
its host-side tools (python3 loadgen.py, wrk, openssl) inside that container's *network namespace*
with `nsenter -n`, keeping the host's filesystem and binaries. Nothing is pulled: the container
image is imported from the host's statically linked busybox, or is one of the project's own images.
Containers carry the label `emotion-resilience=1`, sleep at most 15 minutes, and are removed at the end.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .stack import BUILD, REPO, sh

PROBE_IMAGE = "emotion-resilience-probe:local"
LOADGEN = REPO / "tests" / "resilience" / "loadgen.py"


def ensure_probe_image(fallback_image=""):
    """(image, entrypoint) of a container that can just sleep.

    Preferred: a 2 MB image imported from the host's static busybox. Otherwise the gateway's own
    image (Debian-based in both the official and the offline path, so it has /bin/sleep).
    """
    if sh(["docker", "image", "inspect", PROBE_IMAGE], check=False).returncode == 0:
        return PROBE_IMAGE, ["/bin/busybox", "sleep"]
    bb = shutil.which("busybox")
    ldd = sh(["ldd", bb], check=False) if bb else None
    if ldd is not None and "not a dynamic" in ldd.stdout + ldd.stderr:
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(f"{d}/bin")
            shutil.copy(bb, f"{d}/bin/busybox")
            tar = subprocess.Popen(["tar", "-C", d, "-c", "."], stdout=subprocess.PIPE)
            subprocess.run(
                ["docker", "import", "--change", 'ENTRYPOINT ["/bin/busybox"]', "-", PROBE_IMAGE],
                stdin=tar.stdout,
                check=True,
                capture_output=True,
            )
            tar.wait()
        return PROBE_IMAGE, ["/bin/busybox", "sleep"]
    if fallback_image:
        return fallback_image, ["sleep"]
    raise RuntimeError("client containers need a static busybox (apt-get install busybox-static) or a fallback image")


class Client:
    """A client address: a sleeping container whose network namespace we borrow."""

    def __init__(self, name, pid, ip):
        self.name, self.pid, self.ip = name, pid, ip

    def nsenter(self, cmd):
        return ["nsenter", "-t", str(self.pid), "-n", *cmd]

    def __repr__(self):
        return f"<client {self.name} {self.ip}>"


class ClientPool:
    """Context manager: `with ClientPool(network, n) as clients:`; containers removed on exit."""

    def __init__(self, network, n, tag="c", fallback_image=""):
        self.network, self.n, self.tag, self.fallback = network, n, tag, fallback_image
        self.clients = []

    def __enter__(self):
        image, sleep = ensure_probe_image(self.fallback or os.environ.get("RESIL_CLIENT_IMAGE", ""))
        stamp = f"{os.getpid()}-{int(time.time())}"
        for i in range(self.n):
            name = f"resil-{self.tag}{i}-{stamp}"
            sh(
                [
                    "docker",
                    "run",
                    "-d",
                    "--rm",
                    "--name",
                    name,
                    "--network",
                    self.network,
                    "--label",
                    "emotion-resilience=1",
                    "--entrypoint",
                    sleep[0],
                    image,
                    *sleep[1:],
                    "900",
                ]
            )
            raw = json.loads(sh(["docker", "inspect", name]).stdout)[0]
            ip = raw["NetworkSettings"]["Networks"][self.network]["IPAddress"]
            self.clients.append(Client(name, raw["State"]["Pid"], ip))
        return self.clients

    def __exit__(self, *exc):
        names = [c.name for c in self.clients]
        if names:
            sh(["docker", "rm", "-f", *names], check=False)


def start_load(client, target_ip, auth, label, **kw):
    """Start loadgen.py inside `client`'s network namespace; returns (Popen, out_path)."""
    BUILD.mkdir(parents=True, exist_ok=True)
    out = BUILD / f"load-{label}-{os.getpid()}.json"
    if out.exists():
        out.unlink()
    args = [sys.executable, str(LOADGEN), "--host", target_ip, "--label", label, "--out", str(out)]
    for k, v in kw.items():
        flag = "--" + k.replace("_", "-")
        if isinstance(v, bool):
            if not v:
                args.append("--no-" + k.replace("_", "-"))
        elif isinstance(v, (list, tuple)):
            for item in v:
                args += [flag, str(item)]
        else:
            args += [flag, str(v)]
    env = dict(os.environ)
    if auth:
        # Passed by environment, never argv: argv is visible in every process listing.
        env["RESIL_BASIC_AUTH"] = f"{auth[0]}:{auth[1]}"
    p = subprocess.Popen(client.nsenter(args), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return p, out


def collect(procs):
    """Wait for load processes and merge their summaries."""
    results = []
    for p, out in procs:
        _, err = p.communicate(timeout=900)
        if p.returncode != 0 or not Path(out).exists():
            raise RuntimeError(f"loadgen failed ({p.returncode}): {err.strip()[-500:]}")
        results.append(json.loads(Path(out).read_text()))
    return results


def merge(results):
    """Totals over clients: sent, status counts, error counts, stale retries, all events by time."""
    total = {"sent": 0, "status": {}, "errors": {}, "stale_retries": 0, "unfinished": 0, "events": []}
    for r in results:
        total["sent"] += r["sent"]
        total["stale_retries"] += r["stale_retries"]
        total["unfinished"] += r["unfinished"]
        for k, v in r["status"].items():
            total["status"][k] = total["status"].get(k, 0) + v
        for k, v in r["errors"].items():
            total["errors"][k] = total["errors"].get(k, 0) + v
        total["events"].extend(e + [r["client"]] for e in r["events"])
    total["events"].sort(key=lambda e: e[0])
    return total


def describe(total):
    """One-line summary of a merged load run, for PASS/FAIL details."""
    st = ", ".join(f"{k}:{v}" for k, v in sorted(total["status"].items()))
    er = ", ".join(f"{k}:{v}" for k, v in sorted(total["errors"].items())) or "none"
    return f"sent={total['sent']} status={{{st}}} errors={{{er}}} stale-keepalive-retries={total['stale_retries']}"
