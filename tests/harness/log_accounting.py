#!/usr/bin/env python3
"""Does the access-log exporter count every request nginx answers, under a burst?

Run against the loopback topology, which it finds in the harness's environment:
  tests/harness/loopback.py -- python3 tests/harness/log_accounting.py [REQUESTS]

Sends 2 x REQUESTS (default 20,000) POST /predict through the gateway with hey, both variants at
once, 25 connections each, as fast as nginx answers (mostly 429 from the per-address limit), then
compares the exporter's sum of gateway_requests_total with the number sent. Exit 1 when they
differ after 15 s. A benchmark of the syslog path, not part of any suite: its figures are in
crates/access-log-exporter/README.md.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request


def counted(exporter: str) -> int:
    with urllib.request.urlopen(f"{exporter}/metrics", timeout=5) as response:
        text = response.read().decode()
    return round(sum(float(v) for v in re.findall(r"(?m)^gateway_requests_total\{[^}]*\} (\S+)$", text)))


def main() -> int:
    requests = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    base, exporter = os.environ["E2E_BASE_URL"], os.environ["HARNESS_EXPORTER_URL"]
    before = counted(exporter)
    hey = ["hey", "-n", str(requests), "-c", "25", "-m", "POST", "-T", "application/json"]
    hey += ["-d", '{"sentence":"load test"}']
    start = time.monotonic()
    runs = [
        subprocess.Popen([*hey, *group, f"{base}/predict"], stdout=subprocess.PIPE, text=True)
        for group in ([], ["-H", "X-Experiment-Group: debug"])
    ]
    outputs = [run.communicate()[0] for run in runs]
    elapsed = time.monotonic() - start
    for group, output in zip(("v1", "v2"), outputs, strict=True):
        statuses = re.findall(r"\[(\d+)\]\s+(\d+) responses", output)
        print(f"{group}: " + ", ".join(f"{n} x {code}" for code, n in statuses))
    sent = 2 * requests
    deadline = time.monotonic() + 15
    while (seen := counted(exporter) - before) != sent and time.monotonic() < deadline:
        time.sleep(1)  # the last datagrams may still be in the socket's queue
    verdict = "PASS" if seen == sent else "FAIL"
    print(f"{verdict} log accounting: {sent} requests in {elapsed:.2f} s, {seen} counted by the exporter")
    return 0 if seen == sent else 1


if __name__ == "__main__":
    sys.exit(main())
