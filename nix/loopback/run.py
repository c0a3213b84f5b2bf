#!/usr/bin/env python3
"""Runs what the NixOS modules render (render.nix) on loopback, then the e2e suite against it.

Called by nix/loopback/run.sh inside a private network namespace (`unshare -n`), so ports 80,
443, 8081, 9090 ... are free whatever runs on the host. Real processes throughout: the release
binaries, Nginx with the module's nginx.conf and render-params.sh output, the Nginx exporter,
and Prometheus with the module's prometheus.yml and the repository's rules. What it cannot
show: systemd units, hardening, LoadCredential and the firewall (only the VM test does).

Usage: run.py REPO WORKDIR BINDIR   (WORKDIR holds rendered.json and model/)
"""

import json
import os
import secrets
import shlex
import signal
import subprocess
import sys
import time
import urllib.request

repo, work, bindir = sys.argv[1:4]
rendered = json.load(open(f"{work}/rendered.json"))
logs = f"{work}/logs"
credentials = f"{work}/credentials"  # stands in for /run/credentials/nginx.service
procs = []


def sh(cmd, env=None):
    print("+", cmd, flush=True)
    subprocess.run(cmd, shell=True, check=True, env={**os.environ, **(env or {})})


def spawn(name, argv, env=None):
    proc = subprocess.Popen(
        argv, env={**os.environ, **(env or {})}, stdout=open(f"{logs}/{name}.log", "w"), stderr=subprocess.STDOUT
    )
    open(f"{work}/{name}.pid", "w").write(str(proc.pid))
    procs.append(proc)


def wait_http(url, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"not ready in {timeout}s: {url}")


sh("ip link set lo up")
sh(f"rm -rf {work}/secrets {credentials} {work}/etc-nginx {work}/prometheus-data {logs} && mkdir -p {logs}")
password = secrets.token_urlsafe(18)
sh(f"scripts/certs.sh {work}/secrets >/dev/null")
sh(f"scripts/credentials.sh {work}/secrets >/dev/null", {"GATEWAY_USER": "loopback", "GATEWAY_PASSWORD": password})
# Debian's nginx workers run as nobody; LoadCredential would give the files to the nginx user.
sh(
    f"mkdir -p {credentials} && cp {work}/secrets/tls.crt {work}/secrets/tls.key {work}/secrets/htpasswd {credentials}/"
    f" && chmod 644 {credentials}/*"
)

for name, env in rendered["apiEnvironment"].items():
    env = dict(env, EMOTION_MODEL_PATH=f"{work}/model/emotion-model.bin", RUST_LOG="warn")
    spawn(name, [f"{bindir}/emotion-api"], env)
    # The suite's start-replica hook: the same instance again, back when it is ready.
    with open(f"{work}/start-{name}.sh", "w") as hook:
        hook.write(
            " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
            + f" setsid {bindir}/emotion-api >>{logs}/{name}.log 2>&1 & echo $! > {work}/{name}.pid\n"
            + f"for i in $(seq 100); do curl -fsS http://{env['EMOTION_HTTP_ADDR']}/health/ready"
            + " >/dev/null 2>&1 && exit 0; sleep 0.2; done; exit 1\n"
        )
spawn("access-log-exporter", [f"{bindir}/access-log-exporter"], rendered["exporterEnvironment"])

# /etc/nginx as the gateway module lays it out: the config, gateway/ and params/.
etc = f"{work}/etc-nginx"
os.makedirs(etc)
os.symlink(f"{repo}/nginx", f"{etc}/gateway")
params = {k: v.replace("/run/credentials/nginx.service", credentials) for k, v in rendered["nginxParams"].items()}
sh(f"sh nginx/render-params.sh {etc}/params", params)
# NixOS's nginx module writes these three lines before `services.nginx.config`.
with open(f"{etc}/nginx.conf", "w") as conf:
    conf.write(f"pid {work}/nginx.pid;\nerror_log stderr;\ndaemon off;\n\n" + rendered["nginxConfig"])
sh(f"nginx -t -c {etc}/nginx.conf")
procs.append(
    subprocess.Popen(
        ["nginx", "-c", f"{etc}/nginx.conf"],
        stdout=open(f"{logs}/nginx-access.log", "a"),
        stderr=open(f"{logs}/nginx-error.log", "w"),
    )
)

# The rules' store path becomes the checkout's.
yml = rendered["prometheusYml"]
store_rules = yml.split("rule_files:\n  - ")[1].split("\n")[0]
with open(f"{work}/prometheus.yml", "w") as out:
    out.write(yml.replace(store_rules, f"{repo}/monitoring/prometheus/rules/*.yml"))
sh(f"promtool check config {work}/prometheus.yml")
spawn(
    "prometheus",
    [
        "prometheus",
        f"--config.file={work}/prometheus.yml",
        f"--storage.tsdb.path={work}/prometheus-data",
        "--web.listen-address=127.0.0.1:9090",
    ],
)

status = 1
try:
    for port in (8001, 8002, 8003, 8004):
        wait_http(f"http://127.0.0.1:{port}/health/ready")
    wait_http("http://127.0.0.1:8081/stub_status")
    # Started after nginx: exporter 0.11 exits when stub_status is not up (systemd restarts it).
    spawn("nginx-exporter", ["prometheus-nginx-exporter", "-nginx.scrape-uri", rendered["nginxExporterScrapeUri"]])
    wait_http("http://127.0.0.1:9113/metrics")
    wait_http("http://127.0.0.1:9090/-/ready")
    second = (
        "for i in 1 2 3; do curl -s -o /dev/null -w '%{http_code}\\n' --interface 127.0.0.2"
        f" --cacert {work}/secrets/tls.crt -u \"$E2E_USER:$E2E_PASSWORD\" -H 'Content-Type: application/json'"
        ' -d \'{"sentence": "a second client"}\' https://localhost/predict; done'
    )
    status = subprocess.run(
        [
            sys.executable,
            "tests/e2e/run.py",
            "--base-url",
            "https://localhost",
            "--http-url",
            "http://localhost",
            "--cacert",
            f"{work}/secrets/tls.crt",
            "--credentials-file",
            f"{work}/secrets/credentials.env",
            "--second-client-cmd",
            second,
            "--prometheus-url",
            "http://127.0.0.1:9090",
            "--stop-replica-cmd",
            f"kill $(cat {work}/emotion-api-v1-b.pid)",
            "--start-replica-cmd",
            f"bash {work}/start-emotion-api-v1-b.sh",
        ]
    ).returncode
finally:
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    # The v1-b that the start hook brought back is not one of procs.
    subprocess.run(f"kill $(cat {work}/emotion-api-v1-b.pid) 2>/dev/null", shell=True)
    for proc in procs:
        proc.wait(timeout=20)
sys.exit(status)
