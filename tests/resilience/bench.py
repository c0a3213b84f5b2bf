#!/usr/bin/env python3
"""Gateway benchmark: /predict through TLS + basic auth, beside the same Nginx serving a static 200.

Usage: python3 tests/resilience/bench.py [--duration 20] [--connections 32] [--threads 2]

What it does, on the running compose stack of this checkout:
1. raises the /predict rate limit of the running gateway for the benchmark only (rewrites its rendered
   params/rate-limit.conf in the container's tmpfs and reloads; restored at the end, also on failure);
2. adds a benchmark-only TLS server on :8443 (not published: reached from a client container on the
   frontend network) serving a small static JSON file, once without and once with basic auth, with
   the same TLS settings, access logs and worker processes as the real server: the gateway's ceiling;
3. runs wrk (Lua script setting Authorization from the environment) from a client container's network
   namespace against both, and against /predict (v1, and v2 by header), and /predict v1 once more
   with every request mirrored to v2 (SHADOW_PERCENT=100's rendering): what shadow traffic costs
   the client;
4. writes the figures into tests/resilience/RESULTS.md, with the command and the machine.

A benchmark, not a test: it asserts only that every measured response was a 2xx (so the figures
are of real answers), never a timing. Ends with `N passed, N failed` like the suite.
"""

import argparse
import base64
import datetime
import os
import re
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
"""

SERVER = """
{mark}: benchmark-only server, removed when the benchmark ends.
server {{
    listen 8443 ssl;
    server_name _;
    default_type application/json;
    location = /static {{
        return 200 '{{"label":"joy","confidence":1.0}}\n';
    }}
    # `return` runs before the access phase and would skip auth: serve a file, as a content handler.
    location = /static-auth {{
        auth_basic "emotion-gateway";
        alias {params}/bench-static.json;
    }}
    # Diagnosis: the real proxy path to the v1 replicas without the password check.
    location = /predict-noauth {{
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


def to_ms(s):
    m = re.match(r"([\d.]+)(us|ms|s)", s or "")
    if not m:
        return float("nan")
    return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]


def recreate_apis(ctx, override):
    """Recreate the API containers with (or without) the benchmark override, then let Nginx
    re-resolve them (it resolves upstream names only when it loads its configuration)."""
    files = ["-f", "compose.yaml"] + (
        ["-f", str(Path(__file__).resolve().parent / "compose.bench.yaml")] if override else []
    )
    env = dict(os.environ, COMPOSE_PROJECT_NAME=ctx.stack.project)
    sh(["scripts/compose.sh", *files, "up", "-d", "--no-deps", "api-v1", "api-v2"], timeout=600, env=env)
    for c in ctx.v1() + ctx.v2():
        ctx.stack.wait_ready(c, timeout=120)
    ctx.nginx_exec("nginx", "-s", "reload")


class Tuned:
    """Raise the rate limit and add the benchmark server; undo on exit."""

    def __init__(self, ctx):
        self.ctx = ctx

    def __enter__(self):
        ctx = self.ctx
        self.rate_path = nginxconf.params_file(ctx, "rate-limit.conf")
        self.log_path = nginxconf.params_file(ctx, "logging.conf")
        self.rate_orig = ctx.nginx_exec("cat", self.rate_path).stdout
        self.log_orig = ctx.nginx_exec("cat", self.log_path).stdout
        params = os.path.dirname(self.rate_path)
        raised = re.sub(r"rate=\d+r/s", "rate=1000000r/s", self.rate_orig)
        raised = re.sub(r"burst=\d+", "burst=100000", raised)
        Tuned._write(self.ctx, self.rate_path, raised)
        Tuned._write(self.ctx, f"{params}/bench-static.json", '{"label":"joy","confidence":1.0}\n')
        ctx.nginx_exec("chmod", "644", f"{params}/bench-static.json")
        Tuned._write(self.ctx, self.log_path, self.log_orig + SERVER.format(mark=BENCH_MARK, params=params))
        ctx.nginx_exec("nginx", "-t")
        ctx.nginx_exec("nginx", "-s", "reload")
        return self

    @staticmethod
    def _write(ctx, path, text):
        sh(["docker", "exec", "-i", ctx.nginx.id, "sh", "-c", f"cat > {path}"], input=text)

    def __exit__(self, *exc):
        Tuned._write(self.ctx, self.rate_path, self.rate_orig)
        Tuned._write(self.ctx, self.log_path, self.log_orig)
        self.ctx.nginx_exec("nginx", "-s", "reload")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--duration", type=int, default=20)
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    if a.duration > 120 or a.connections > 512:
        sys.exit("bench: duration <= 120 s, connections <= 512")
    rep = Report()
    ctx = Context(rep)
    BUILD.mkdir(parents=True, exist_ok=True)
    lua = BUILD / "bench.lua"
    lua.write_text(LUA)
    b64 = base64.b64encode(f"{ctx.auth[0]}:{ctx.auth[1]}".encode()).decode()
    body = '{"sentence":"I am so happy today, everything went right"}'
    cases = [
        ("static 200, TLS", f"https://{ctx.gateway_ip}:8443/static", {}),
        ("static 200, TLS + basic auth", f"https://{ctx.gateway_ip}:8443/static-auth", {"BENCH_AUTH_B64": b64}),
        (
            "POST /predict v1, TLS + basic auth",
            f"https://{ctx.gateway_ip}/predict",
            {"BENCH_AUTH_B64": b64, "BENCH_METHOD": "POST", "BENCH_BODY": body},
        ),
        (
            "POST /predict v2 (debug), TLS + basic auth",
            f"https://{ctx.gateway_ip}/predict",
            {"BENCH_AUTH_B64": b64, "BENCH_METHOD": "POST", "BENCH_BODY": body, "BENCH_GROUP": "debug"},
        ),
        (
            "POST /predict v1, TLS, no auth (bench-only location, diagnosis)",
            f"https://{ctx.gateway_ip}:8443/predict-noauth",
            {"BENCH_METHOD": "POST", "BENCH_BODY": body},
        ),
        (
            SHADOW_CASE,
            f"https://{ctx.gateway_ip}/predict",
            {"BENCH_AUTH_B64": b64, "BENCH_METHOD": "POST", "BENCH_BODY": body},
        ),
    ]
    rows = []
    os.chdir(REPO)
    recreate_apis(ctx, override=True)
    try:
        run_cases(a, ctx, lua, cases, rows, rep)
    finally:
        recreate_apis(ctx, override=False)
    ceiling = rows[1][1]["rps"] or rows[0][1]["rps"]
    predict = rows[2][1]["rps"]
    ratio = predict / ceiling if ceiling else 0.0
    rep.info(f"/predict v1 = {ratio:.0%} of the static-with-auth ceiling (target >= 50%)")
    write_results(a, rows, ratio, ctx)
    return rep.close()


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


def shadow(ctx, on):
    """Mirror every /predict to v2 (what render-params.sh writes for SHADOW_PERCENT=100), or stop.
    Only the two shadow parameters change, so the raised rate limit stays."""
    mirror = nginxconf.params_file(ctx, "shadow-mirror.conf")
    split = nginxconf.params_file(ctx, "ab-split.conf")
    text = ctx.nginx_exec("cat", split).stdout
    sample = re.sub(
        r"(split_clients \"\$request_id\" \$shadow_sample \{)[^}]*\}",
        r"\1\n    *    1;\n}" if on else r"\1\n    *    0;\n}",
        text,
    )
    Tuned._write(ctx, split, sample)
    Tuned._write(ctx, mirror, "mirror /_shadow;\n" if on else "")
    ctx.nginx_exec("nginx", "-t")
    ctx.nginx_exec("nginx", "-s", "reload")
    time.sleep(2)


def run_cases(a, ctx, lua, cases, rows, rep):
    with clients.ClientPool(ctx.network, 1, "bench") as pool, Tuned(ctx):
        wait_serving(pool[0], cases[0][1])
        for name, url, env in cases:
            if name == SHADOW_CASE:
                shadow(ctx, on=True)
            cmd = ["wrk", f"-t{a.threads}", f"-c{a.connections}", f"-d{a.duration}s", "--latency", "-s", str(lua), url]
            p = subprocess.run(
                pool[0].nsenter(cmd), capture_output=True, text=True, env={**os.environ, **env}, timeout=a.duration + 60
            )
            if name == SHADOW_CASE:
                shadow(ctx, on=False)
            r = parse_wrk(p.stdout)
            if not r["requests"]:
                rep.info(f"wrk said: {(p.stdout + p.stderr).strip()[-300:]}")
            rows.append((name, r))
            rep.check(
                f"bench: {name}: every measured response was a 2xx",
                r["requests"] > 0 and r["non2xx"] == 0,
                f"{r['requests']} requests, {r['rps']:.0f} req/s, p50 {r['p50']}, p99 {r['p99']}, "
                f"non-2xx {r['non2xx']}, socket errors {r['socket_errors']}",
            )


def write_results(a, rows, ratio, ctx):
    cpu = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"## Gateway throughput ({now})",
        "",
        f"Command: `python3 tests/resilience/bench.py --duration {a.duration} --connections {a.connections} "
        f"--threads {a.threads}` (`make bench-resilience`).",
        f"Machine: {cpu} cores; wrk, Nginx, {len(ctx.v1())} api-v1 + {len(ctx.v2())} api-v2 replicas and the "
        "exporters share them. wrk runs in a client container's network namespace on the frontend network; "
        "keep-alive connections, TLS 1.3, rate limit raised for the run.",
        "",
        "| case | req/s | p50 | p99 | requests | non-2xx |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, r in rows:
        lines.append(f"| {name} | {r['rps']:.0f} | {r['p50']} | {r['p99']} | {r['requests']} | {r['non2xx']} |")
    tls_only = rows[0][1]["rps"]
    lines += [
        "",
        f"/predict (v1) reaches **{ratio:.0%}** of the static-with-auth ceiling (target: at least 50%) "
        f"and {rows[2][1]['rps'] / tls_only:.0%} of the TLS-only static ceiling."
        if tls_only
        else "",
        "",
    ]
    block = "\n".join(lines)
    # The default run (32 connections) is the recorded figure; other connection counts get a
    # block of their own instead of replacing it.
    write_block(RESULTS, "bench" if a.connections == 32 else f"bench-c{a.connections}", block)
    print(block)


if __name__ == "__main__":
    sys.exit(main())
