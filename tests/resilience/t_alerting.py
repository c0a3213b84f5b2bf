"""Alerts reach someone: stop every api-v1 replica, see the alert arrive at the receiver, start them
again, see it resolve.

The whole path is the production one: Prometheus evaluates the real rule (ApiVariantUnavailable,
`for: 1m`, monitoring/prometheus/rules/targets.yml), sends it to the stack's Alertmanager, whose
`webhook` receiver posts to crates/alert-receiver. One thing is changed for the test, and put
back: Alertmanager runs a copy of monitoring/alertmanager/alertmanager.yml whose group_wait and
group_interval are seconds (tests/resilience/compose.alerts.yaml mounts it). With the production
timers the firing notification would come 30 s after the rule fires and the resolved one up to
5 minutes after the replicas are back (a group's changes go out once per group_interval). The
rule keeps its `for:`: shortening it would need a second rule file in Prometheus' mounted
configuration, and one minute fits the test's budget.

The receiver sits on the monitoring network, which the host does not reach without a published
port: GET /alerts is read from inside Prometheus' network namespace (`nsenter -n`), as
rlib/metrics.py reads the exporters.
"""

import json
import os
import re
import sys
import time
from pathlib import Path

from rlib import metrics
from rlib.stack import BUILD, REPO, sh

ALERT = "ApiVariantUnavailable"
# Test timers: Alertmanager's group_wait and group_interval (production: 30s and 5m).
TIMERS = {"group_wait": "5s", "group_interval": "10s"}
OVERRIDE = Path(__file__).resolve().parent / "compose.alerts.yaml"
PRODUCTION = REPO / "monitoring" / "alertmanager" / "alertmanager.yml"
# Stop to firing notification: DNS refresh (10 s) + evaluation (5 s) + for (60 s) + group_wait
# (5 s), with room for a slow machine; start to resolved: health (~5 s) + DNS refresh + scrape +
# evaluation + group_interval (10 s).
FIRE_TIMEOUT = 150
RESOLVE_TIMEOUT = 90

FETCH = "import sys,urllib.request\nsys.stdout.write(urllib.request.urlopen(sys.argv[1],timeout=5).read().decode())\n"


def _get(pid, url):
    """GET `url` from inside the network namespace of process `pid`; the body as text."""
    return sh(["nsenter", "-t", str(pid), "-n", sys.executable, "-c", FETCH, url], timeout=30).stdout


def _notifications(pid, receiver_ip):
    return json.loads(_get(pid, f"http://{receiver_ip}:9095/alerts"))


def _find(notifications, after_seq, status, fingerprint=None):
    """The first notification after `after_seq` carrying the api-v1 alert in state `status`."""
    for n in notifications:
        if n["seq"] <= after_seq:
            continue
        for a in n["alerts"]:
            labels = a["labels"]
            if (
                labels.get("alertname") == ALERT
                and labels.get("job") == "api-v1"
                and a["status"] == status
                and (fingerprint is None or a.get("fingerprint") == fingerprint)
            ):
                return n, a
    return None, None


def _wait_for(pid, receiver_ip, after_seq, status, timeout, fingerprint=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        n, a = _find(_notifications(pid, receiver_ip), after_seq, status, fingerprint)
        if n:
            return n, a
        time.sleep(2)
    return None, None


def _timers(text):
    """The route's group_wait and group_interval in an alertmanager.yml."""
    return {k: (re.search(rf"^  {k}: (\S+)$", text, re.M) or [None, "?"])[1] for k in TIMERS}


def _delivered(pid, receiver_ip):
    """alert_receiver_notifications_total of the api-v1 alert's name, by status, read directly."""
    url = f"http://{receiver_ip}:9095/metrics"
    samples = metrics.scrape_from(pid, [url]).get(url) or []
    return {
        s: metrics.total(samples, "alert_receiver_notifications_total", alertname=ALERT, status=s)
        for s in ("firing", "resolved")
    }


def _test_config():
    """monitoring/alertmanager/alertmanager.yml with the test timers, in a folder of its own."""
    text = PRODUCTION.read_text()
    for key, value in TIMERS.items():
        text, n = re.subn(rf"^(  {key}: )\S+$", rf"\g<1>{value}", text, flags=re.M)
        if n != 1:
            raise RuntimeError(f"alertmanager.yml: expected one route-level {key}, found {n}")
    folder = BUILD / "alertmanager"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "alertmanager.yml").write_text(text)
    folder.chmod(0o755)
    (folder / "alertmanager.yml").chmod(0o644)
    return folder


def _recreate_alertmanager(ctx, original, test_folder=None):
    """`compose up -d --no-deps alertmanager`, with the test override when `test_folder` is given.

    Image and published port are the running container's, so the recreated one differs only in
    its configuration whatever this process's environment says.
    """
    port = ctx.published(original, "9093/tcp")
    env = dict(os.environ, ALERTMANAGER_IMAGE=original.image)
    if port:
        env["ALERTMANAGER_PORT"] = port
    extra = []
    if test_folder:
        env["RESIL_ALERTMANAGER_DIR"] = str(test_folder)
        extra = [OVERRIDE]
    sh(ctx.stack.compose_cmd(*extra) + ["up", "-d", "--no-deps", "alertmanager"], timeout=300, env=env)
    return ctx.stack.wait_ready(ctx.stack.one("alertmanager"), timeout=60)


def _route_timers(pid, alertmanager_ip):
    """group_wait and group_interval of the configuration Alertmanager is running."""
    status = json.loads(_get(pid, f"http://{alertmanager_ip}:9093/api/v2/status"))
    return _timers(status["config"]["original"])


def test_alert_delivery(ctx, rep):
    """Stop every api-v1 replica: ApiVariantUnavailable reaches the receiver; start them: it resolves."""
    names = {c.service for c in ctx.stack.containers()}
    if not {"alertmanager", "alert-receiver"} <= names:
        rep.check("alert-delivery: the stack runs alertmanager and alert-receiver", False, f"services: {sorted(names)}")
        return
    prom = ctx.stack.one("prometheus")
    receiver_ip = ctx.stack.one("alert-receiver").ip("monitoring")
    original = ctx.stack.one("alertmanager")
    v1 = ctx.v1()
    before = max((n["seq"] for n in _notifications(prom.pid, receiver_ip)), default=0)
    counted_before = _delivered(prom.pid, receiver_ip)
    marks = {}
    fired = resolved = (None, None)
    try:
        am = _recreate_alertmanager(ctx, original, _test_config())
        timers = _route_timers(prom.pid, am.ip("monitoring"))
        rep.info(f"alert-delivery: alertmanager recreated with the test timers {timers}")

        marks["stop"] = time.time()
        sh(["docker", "stop", "-t", "10", *[c.id for c in v1]], timeout=120)
        rep.info(f"alert-delivery: stopped {len(v1)} api-v1 replicas in {time.time() - marks['stop']:.0f} s")
        try:
            fired = _wait_for(prom.pid, receiver_ip, before, "firing", FIRE_TIMEOUT)
            marks["fired"] = time.time()
        finally:
            marks["start"] = time.time()
            sh(["docker", "start", *[c.id for c in v1]], timeout=120)
            for c in v1:
                ctx.stack.wait_ready(c, timeout=90)
            marks["ready"] = time.time()
        if fired[0]:
            resolved = _wait_for(
                prom.pid, receiver_ip, fired[0]["seq"], "resolved", RESOLVE_TIMEOUT, fired[1].get("fingerprint")
            )
            marks["resolved"] = time.time()
    finally:
        restored = _recreate_alertmanager(ctx, ctx.stack.one("alertmanager"))
        back = _route_timers(prom.pid, restored.ip("monitoring"))

    n, a = fired
    rep.check(
        f"alert-delivery: with every api-v1 replica stopped, {ALERT}{{job=api-v1}} arrives at the receiver, firing",
        n is not None,
        f"notification #{n['seq']} to receiver {n['receiver']!r} "
        f"{marks['fired'] - marks['stop']:.0f} s after the stop (rule for: 1m), "
        f"summary {a['annotations'].get('summary')!r}"
        if n
        else f"nothing within {FIRE_TIMEOUT} s of the stop; notifications since: "
        f"{[(x['seq'], x['status'], x['groupLabels']) for x in _notifications(prom.pid, receiver_ip) if x['seq'] > before]}",
    )
    n2, a2 = resolved
    rep.check(
        "alert-delivery: with the replicas started again, the same alert arrives resolved",
        n2 is not None,
        f"notification #{n2['seq']} {marks['resolved'] - marks['ready']:.0f} s after the replicas were "
        f"healthy, endsAt {a2.get('endsAt')}"
        if n2
        else (f"nothing within {RESOLVE_TIMEOUT} s of the restart" if n else "not waited for: it never fired"),
    )
    logs = sh(
        ["docker", "logs", "--since", str(int(marks["stop"]) - 1), ctx.stack.one("alert-receiver").id], check=False
    ).stdout
    lines = [json.loads(line) for line in logs.splitlines() if line.startswith("{") and '"message":"alert"' in line]
    seen = {(x["status"], x["labels"].get("job")) for x in lines if x.get("alertname") == ALERT}
    rep.check(
        "alert-delivery: the receiver logged both as JSON lines (what an operator reads)",
        {("firing", "api-v1"), ("resolved", "api-v1")} <= seen,
        f"{len(lines)} alert lines since the stop; {ALERT} states: {sorted(seen)}",
    )
    counted = {k: v - counted_before[k] for k, v in _delivered(prom.pid, receiver_ip).items()}
    rep.check(
        "alert-delivery: the receiver counted them (alert_receiver_notifications_total)",
        counted["firing"] >= 1 and counted["resolved"] >= 1,
        f"increase since the stop: {counted}",
    )
    rep.check(
        "alert-delivery: alertmanager is back on the production timers, every api-v1 replica healthy",
        back == _timers(PRODUCTION.read_text()) and all(c.running and c.health == "healthy" for c in ctx.v1()),
        f"timers {back}; api-v1 {[(c.name, c.health) for c in ctx.v1()]}",
    )
    rep.info(f"alert-delivery: took {time.time() - marks.get('stop', time.time()):.0f} s from the stop")
