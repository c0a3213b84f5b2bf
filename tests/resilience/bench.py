#!/usr/bin/env python3
"""Gateway benchmark: each layer of the gateway's cost as the difference of two rows.

Usage: python3 tests/resilience/bench.py [--duration 20] [--connections 32] [--threads 2]
                                         [--pause-ms 0] [--only direct,product,shadow]

What it does, on the running compose stack of this checkout:
1. lifts, for the benchmark only, exactly the limits that would throttle one client address, and
   says so in its output: the gateway's per-address rate and burst on every zone and its
   per-address connection limit (its rendered params/rate-limit.conf, rewritten in the container's
   tmpfs and reloaded, restored at the end, also on failure), and the APIs' own per-client limit
   (the replicas recreated with tests/resilience/compose.bench.yaml, and back at the end);
2. adds a benchmark-only server to the gateway, on :8080 (plain HTTP) and :8443 (TLS, the same TLS
   settings as the real server), not published: the same static file with and without basic auth,
   and the real proxy path to the v1 replicas with and without basic auth;
3. runs wrk (a Lua script sets Authorization from the environment) from a client container's
   network namespace, case by case, so that neighbouring cases differ in one thing:
     static file: HTTP | TLS | TLS + auth
     /predict: one replica direct (from a client on the backend network) | through nginx, HTTP |
               TLS | TLS + auth | the product route (TLS + auth, limits, A/B routing)
   then the product route for v2 (debug) and with every request mirrored to v2 (shadow 100 %),
   and the product route once more with wrk on the host against nginx's address;
4. reads each container's CPU time from its cgroup before and after each case: CPU µs per
   request of nginx and of the replicas;
5. writes the figures into tests/resilience/RESULTS.md, with the command and the machine.

`--pause-ms N` makes each connection wait N ms after every answer before its next request (wrk's
`delay()`; the latency figures exclude the pause): load below saturation, where what a request
costs its neighbours (the shadow mirror: its answer time; see nginx/conf/shadow.conf) shows in the
latency rather than in the request rate. `--only` runs the named cases (keys: static, static-tls,
static-auth, direct, nginx-http, nginx-tls, nginx-auth, product, v2, host, shadow).

A benchmark, not a test: it asserts only that every measured response was a 2xx (so the figures
are of real answers), never a timing. Ends with `N passed, N failed` like the suite.
"""

import argparse
import base64
import datetime
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from rlib import clients, nginxconf  # noqa: E402
from rlib.context import Context  # noqa: E402
from rlib.report import Report, write_block  # noqa: E402
from rlib.stack import BUILD, REPO, sh  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
SHADOW_CASE = "POST /predict v1, TLS + basic auth, every request mirrored to v2 (shadow 100 %)"
BENCH_MARK = "# resilience-bench"

LUA = """-- Written by tests/resilience/bench.py. No secret in here: read from the environment.
wrk.method = os.getenv("BENCH_METHOD") or "GET"
local body = os.getenv("BENCH_BODY")
if body and body ~= "" then wrk.body = body end
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Host"] = "localhost"
local b64 = os.getenv("BENCH_AUTH_B64")
if b64 and b64 ~= "" then wrk.headers["Authorization"] = "Basic " .. b64 end
local group = os.getenv("BENCH_GROUP")
if group and group ~= "" then wrk.headers["X-Experiment-Group"] = group end
local pause = tonumber(os.getenv("BENCH_PAUSE_MS") or "0")
if pause > 0 then function delay() return pause end end
"""

SERVER = """
{mark}: benchmark-only server, removed when the benchmark ends.
server {{
    listen 8080;
    listen 8443 ssl;
    server_name _;
    default_type application/json;
    # Content handlers throughout (`return` would run before the access phase and skip auth), so
    # the cases with and without auth do the same work but for the password check.
    location = /static {{
        alias {params}/bench-static.json;
    }}
    location = /static-auth {{
        auth_basic "emotion-gateway";
        alias {params}/bench-static.json;
    }}
    # The real proxy path to the v1 replicas (gateway/conf/proxy.conf), with and without the
    # password check, outside the product server's limits and routing.
    location = /predict-noauth {{
        rewrite ^ /predict break;
        include gateway/conf/proxy.conf;
    }}
    location = /predict-auth {{
        auth_basic "emotion-gateway";
        rewrite ^ /predict break;
        include gateway/conf/proxy.conf;
    }}
}}
"""


def parse_wrk(out):
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    lat = dict(re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+\w+)", out, re.M))
    total = re.search(r"(\d+) requests in", out)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:(.*)", out)
    return {
        "rps": float(rps.group(1)) if rps else 0.0,
        "p50": lat.get("50", "?"),
        "p99": lat.get("99", "?"),
        "requests": int(total.group(1)) if total else 0,
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": errors.group(1).strip() if errors else "none",
    }


def recreate_apis(ctx, override):
    """Recreate the API containers with (or without) the benchmark override, then reload nginx so
    that the first case meets the new addresses at once (it would re-resolve them within 2 s by
    itself: nginx/conf/upstreams.conf)."""
    files = ["-f", "compose.yaml"] + (
        ["-f", str(Path(__file__).resolve().parent / "compose.bench.yaml")] if override else []
    )
    env = dict(os.environ, COMPOSE_PROJECT_NAME=ctx.stack.project)
    sh(["scripts/compose.sh", *files, "up", "-d", "--no-deps", "api-v1", "api-v2"], timeout=600, env=env)
    for c in ctx.v1() + ctx.v2():
        ctx.stack.wait_ready(c, timeout=120)
    ctx.nginx_exec("nginx", "-s", "reload")


# What one client address must not be held to during the benchmark: every per-address limit of
# the gateway, applied with the product's own `make reload-gateway`.
LIFTED = {
    "RATE_LIMIT_RPS": "1000000",
    "RATE_LIMIT_BURST": "100000",
    "OPEN_RATE_LIMIT_RPS": "1000000",
    "OPEN_RATE_LIMIT_BURST": "100000",
    "CONN_LIMIT_PER_ADDR": "60000",  # nginx refuses 65536 or more
}


def reload_gateway(**params):
    """scripts/reload-gateway.sh with exactly these parameters over the container's own; none:
    back to the container's own (the variables are removed from its environment, and .env's
    values are the container's too)."""
    env = {k: v for k, v in os.environ.items() if k not in LIFTED and k != "SHADOW_PERCENT"}
    sh(["scripts/reload-gateway.sh"], env={**env, **params}, timeout=120)


class Tuned:
    """Lift the per-address limits and add the benchmark server; undo on exit."""

    def __init__(self, ctx):
        self.ctx = ctx

    def __enter__(self):
        ctx = self.ctx
        reload_gateway(**LIFTED)
        self.log_path = nginxconf.params_file(ctx, "logging.conf")
        params = os.path.dirname(self.log_path)
        log = ctx.nginx_exec("cat", self.log_path).stdout
        Tuned._write(self.ctx, f"{params}/bench-static.json", '{"label":"joy","confidence":1.0}\n')
        ctx.nginx_exec("chmod", "644", f"{params}/bench-static.json")
        Tuned._write(self.ctx, self.log_path, log + SERVER.format(mark=BENCH_MARK, params=params))
        ctx.nginx_exec("nginx", "-t")
        ctx.nginx_exec("nginx", "-s", "reload")
        return self

    @staticmethod
    def _write(ctx, path, text):
        sh(["docker", "exec", "-i", ctx.nginx.id, "sh", "-c", f"cat > {path}"], input=text)

    def __exit__(self, *exc):
        # Re-rendering the parameters also drops the benchmark server from logging.conf.
        reload_gateway()


def cpu_seconds(container):
    """CPU time used so far by every process of a container, from its cgroup (v1 or v2); None
    where neither is readable."""
    try:
        lines = Path(f"/proc/{container.pid}/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if "cpuacct" in controllers.split(","):
            for mount in ("cpuacct", "cpu,cpuacct"):
                usage = Path(f"/sys/fs/cgroup/{mount}{path}/cpuacct.usage")
                if usage.exists():
                    return int(usage.read_text()) / 1e9
        if controllers == "":
            stat = Path(f"/sys/fs/cgroup{path}/cpu.stat")
            if stat.exists():
                m = re.search(r"^usage_usec (\d+)$", stat.read_text(), re.M)
                return int(m.group(1)) / 1e6 if m else None
    return None


# Host processes that work for every request without being in a container's cgroup: Docker's log
# driver (dockerd reads the containers' stdout) and, where Docker's storage driver is
# fuse-overlayfs (as on this rootless-style machine; overlay2 elsewhere is in the kernel), the
# daemon that resolves every path a container opens.
HOST_DAEMONS = ("dockerd", "containerd", "containerd-shim", "fuse-overlayfs")


def host_seconds(names=HOST_DAEMONS):
    """CPU time used so far by the host processes with these names (utime + stime)."""
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() not in names:
                continue
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def cpu_snapshot(ctx):
    """{"nginx", "apis", "host"}: seconds of CPU so far (None when the cgroups are not readable)."""
    ctx.refresh()
    nginx = cpu_seconds(ctx.nginx)
    apis = [cpu_seconds(c) for c in ctx.v1() + ctx.v2()]
    return {"nginx": nginx, "apis": None if None in apis else sum(apis), "host": host_seconds()}


class Case:
    """One row: what is measured, from where, and what it differs from."""

    def __init__(self, key, name, url, env=None, client="frontend", differs="", shadow=False):
        self.key, self.name, self.url, self.env, self.client = key, name, url, env or {}, client
        self.differs, self.shadow = differs, shadow


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--duration", type=int, default=20)
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--pause-ms", type=int, default=0, help="each connection's pause between requests")
    p.add_argument("--only", default="", help="comma-separated case keys (default: every case)")
    a = p.parse_args()
    if a.duration > 120 or a.connections > 512 or not 0 <= a.pause_ms <= 10000:
        sys.exit("bench: duration <= 120 s, connections <= 512, pause 0-10000 ms")
    if shutil.which("wrk") is None:
        sys.exit("bench: wrk is missing (apt-get install wrk; scripts/prerequisites.sh ci installs it)")
    rep = Report()
    ctx = Context(rep)
    BUILD.mkdir(parents=True, exist_ok=True)
    lua = BUILD / "bench.lua"
    lua.write_text(LUA)
    b64 = base64.b64encode(f"{ctx.auth[0]}:{ctx.auth[1]}".encode()).decode()
    body = {
        "BENCH_METHOD": "POST",
        "BENCH_BODY": '{"sentence":"I am so happy today, everything went right"}',
        "BENCH_PAUSE_MS": str(a.pause_ms),
    }
    auth = {"BENCH_AUTH_B64": b64}
    gw = ctx.gateway_ip
    os.chdir(REPO)
    rep.info(
        "lifted for the run: the gateway's per-address limits ("
        + ", ".join(f"{k}={v}" for k, v in LIFTED.items())
        + ", through scripts/reload-gateway.sh) and the APIs' own per-client limit "
        "(EMOTION_RATE_LIMIT_RPS=0, tests/resilience/compose.bench.yaml); everything else as deployed"
    )
    recreate_apis(ctx, override=True)
    try:
        replica = ctx.v1()[0]
        backend = next(n for n in replica.networks if "backend" in n)
        direct = f"http://{replica.networks[backend]}:8000/predict"
        cases = [
            Case("static", "static file, HTTP", f"http://{gw}:8080/static", {"BENCH_PAUSE_MS": str(a.pause_ms)}),
            Case(
                "static-tls",
                "static file, TLS",
                f"https://{gw}:8443/static",
                {"BENCH_PAUSE_MS": str(a.pause_ms)},
                differs="TLS",
            ),
            Case(
                "static-auth",
                "static file, TLS + auth",
                f"https://{gw}:8443/static-auth",
                {**auth, "BENCH_PAUSE_MS": str(a.pause_ms)},
                differs="basic auth",
            ),
            Case("direct", "/predict, one v1 replica direct", direct, body, client="backend"),
            Case(
                "nginx-http",
                "/predict via nginx, HTTP",
                f"http://{gw}:8080/predict-noauth",
                body,
                differs="nginx proxy, 3 replicas",
            ),
            Case("nginx-tls", "/predict via nginx, TLS", f"https://{gw}:8443/predict-noauth", body, differs="TLS"),
            Case(
                "nginx-auth",
                "/predict via nginx, TLS + auth",
                f"https://{gw}:8443/predict-auth",
                {**body, **auth},
                differs="basic auth",
            ),
            Case(
                "product",
                PRODUCT,
                f"https://{gw}/predict",
                {**body, **auth},
                differs="the product server: TCP front, limits, A/B, headers",
            ),
            Case(
                "v2",
                "/predict v2 (debug), product route",
                f"https://{gw}/predict",
                {**body, **auth, "BENCH_GROUP": "debug"},
                differs="v2 answers",
            ),
            Case(
                "host",
                f"{PRODUCT}, wrk on the host",
                f"https://{gw}/predict",
                {**body, **auth},
                client="host",
                differs="client on the host",
            ),
            Case(
                "shadow",
                SHADOW_CASE,
                f"https://{gw}/predict",
                {**body, **auth},
                differs="every request mirrored to v2",
                shadow=True,
            ),
        ]
        only = {k for k in a.only.split(",") if k}
        unknown = only - {c.key for c in cases}
        if unknown:
            sys.exit(f"bench: unknown case keys {sorted(unknown)}; known: {[c.key for c in cases]}")
        rows = run_cases(a, ctx, lua, [c for c in cases if not only or c.key in only], rep, backend)
    finally:
        recreate_apis(ctx, override=False)
    by_name = {case.name: r for case, r in rows}
    base = by_name.get("/predict, one v1 replica direct", {}).get("rps")
    for name in (PRODUCT, f"{PRODUCT}, wrk on the host"):
        if base and name in by_name:
            rep.info(f"{name}: {by_name[name]['rps'] / base:.2f} of one replica direct (target >= 0.6)")
    write_results(a, rows, ctx)
    return rep.close()


PRODUCT = "/predict, the product route (TLS + auth)"


def wait_serving(client, url, timeout=20):
    """A reload is asynchronous: wait until the benchmark server answers before measuring."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        p = subprocess.run(
            client.nsenter(["curl", "-sk", "-o", "/dev/null", "-w", "%{http_code}", url]),
            capture_output=True,
            text=True,
        )
        if p.stdout.strip() == "200":
            return
        time.sleep(0.5)
    raise RuntimeError(f"{url} not serving {timeout}s after the reload")


def run_cases(a, ctx, lua, cases, rep, backend):
    rows = []
    with (
        clients.ClientPool(ctx.network, 1, "bench") as front,
        clients.ClientPool(backend, 1, "benchd") as back,
        Tuned(ctx),
    ):
        wait_serving(front[0], f"http://{ctx.gateway_ip}:8080/static")  # the benchmark server is up
        for case in cases:
            if case.shadow:
                reload_gateway(**LIFTED, SHADOW_PERCENT="100")  # also drops the bench server
            cmd = ["wrk", f"-t{a.threads}", f"-c{a.connections}", f"-d{a.duration}s", "--latency", "-s", str(lua)]
            cmd.append(case.url)
            runner = {"frontend": front[0].nsenter, "backend": back[0].nsenter, "host": list}[case.client]
            before = cpu_snapshot(ctx)
            p = subprocess.run(
                runner(cmd), capture_output=True, text=True, env={**os.environ, **case.env}, timeout=a.duration + 60
            )
            after = cpu_snapshot(ctx)
            r = parse_wrk(p.stdout)
            for part in ("nginx", "apis", "host"):
                used = None if None in (before[part], after[part]) else after[part] - before[part]
                r[f"{part}_us"] = used * 1e6 / r["requests"] if used is not None and r["requests"] else None
            if not r["requests"]:
                rep.info(f"wrk said: {(p.stdout + p.stderr).strip()[-300:]}")
            rows.append((case, r))
            rep.check(
                f"bench: {case.name}: every measured response was a 2xx",
                r["requests"] > 0 and r["non2xx"] == 0,
                f"{r['requests']} requests, {r['rps']:.0f} req/s, p50 {r['p50']}, p99 {r['p99']}, "
                f"CPU per request: nginx {us(r['nginx_us'])}, replicas {us(r['apis_us'])}, "
                f"Docker's host daemons {us(r['host_us'])}; "
                f"non-2xx {r['non2xx']}, socket errors {r['socket_errors']}",
            )
    return rows


def us(value):
    return "n/a" if value is None else f"{value:.0f} µs"


def write_results(a, rows, ctx):
    cpu = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"## Gateway throughput ({now})",
        "",
        f"Command: `python3 tests/resilience/bench.py {' '.join(sys.argv[1:]) or '(defaults)'}`"
        + (" (`make bench-resilience`)." if len(sys.argv) == 1 else "."),
        f"Machine: {cpu} cores; wrk, nginx, {len(ctx.v1())} api-v1 + {len(ctx.v2())} api-v2 replicas and the "
        "exporters share them. wrk runs in a client container's network namespace (frontend network; backend "
        "network for the direct case; the host where said); keep-alive connections, TLS 1.3. Lifted for the run: "
        + ", ".join(f"`{k}={v}`" for k, v in LIFTED.items())
        + " and the APIs' `EMOTION_RATE_LIMIT_RPS=0`. CPU per request: each container's cgroup CPU time over "
        "the case, divided by its requests (nginx; all API replicas together); Docker's host daemons: "
        + ", ".join(HOST_DAEMONS)
        + " (the log driver, and the storage driver where it is fuse-overlayfs), from /proc."
        + (
            f" Each connection pauses {a.pause_ms} ms after every answer (wrk's `delay()`, not in the latency)."
            if a.pause_ms
            else ""
        ),
        "",
        "| case | differs from the row above in | req/s | p50 | p99 | nginx CPU/req | replicas CPU/req "
        "| Docker daemons CPU/req | requests | non-2xx |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for case, r in rows:
        lines.append(
            f"| {case.name} | {case.differs or '-'} | {r['rps']:.0f} | {r['p50']} | {r['p99']} | "
            f"{us(r['nginx_us'])} | {us(r['apis_us'])} | {us(r['host_us'])} | {r['requests']} | {r['non2xx']} |"
        )
    by_name = {case.name: r for case, r in rows}
    base = by_name.get("/predict, one v1 replica direct", {}).get("rps")
    if base and PRODUCT in by_name and f"{PRODUCT}, wrk on the host" in by_name:
        lines += [
            "",
            f"The product route reaches **{by_name[PRODUCT]['rps'] / base:.2f}** of one replica direct from a "
            f"client container and {by_name[f'{PRODUCT}, wrk on the host']['rps'] / base:.2f} with wrk on the "
            "host (target: 0.6).",
        ]
    lines.append("")
    block = "\n".join(lines)
    # The default run (every case, 32 connections, no pause) is the recorded figure; other
    # connection counts and pauses get a block of their own instead of replacing it.
    default = a.connections == 32 and not a.pause_ms and not a.only
    name = "bench" if default else f"bench-c{a.connections}" + (f"-pause{a.pause_ms}" if a.pause_ms else "")
    write_block(RESULTS, name, block)
    print(block)


if __name__ == "__main__":
    sys.exit(main())
