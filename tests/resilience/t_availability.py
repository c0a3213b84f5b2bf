"""Availability under disruption: replica kill and stop, rolling restarts, model rollout, gateway reload.

Each test runs paced load from several client addresses (each at half its per-address rate limit)
while it disrupts the stack, then asserts that every request sent got a 200 and that the disrupted
parts serve again (their X-Instance reappears, or the new model_version is reported).
"""

import time

from rlib import clients
from rlib.stack import sh


def all_ok(total):
    return (
        total["unfinished"] == 0
        and not total["errors"]
        and set(total["status"]) <= {"200"}
        and total["status"].get("200", 0) == total["sent"] > 0
    )


def seen_after(total, instance, t):
    """200 responses from `instance` sent after time t."""
    return [e for e in total["events"] if e[2] == instance and e[0] > t and e[1] == 200]


def instances(total, t_from=0.0, t_to=1e18):
    return sorted({e[2] for e in total["events"] if t_from <= e[0] <= t_to and e[2]})


def worst_latency(total):
    lat = [e[5] for e in total["events"]]
    return max(lat) if lat else 0.0


def test_routing(ctx, rep):
    """Every current replica gets traffic and the debug header reaches v2 only.

    Nginx resolves upstream names when it loads its configuration; containers recreated since then
    (new addresses) are unknown to it, and an old address may now belong to another service.
    """
    debug = {1: ["X-Experiment-Group: debug"]}
    _, per_client, _ = ctx.under_load(
        lambda: None, clients_n=2, duration=8, warmup=0, headers_per_client=debug, tag="route"
    )
    v1_seen = {e[2] for e in per_client[0]["events"] if e[1] == 200}
    v2_seen = {e[2] for e in per_client[1]["events"] if e[1] == 200}
    v2_variants = {e[4] for e in per_client[1]["events"] if e[1] == 200}
    v1_ids = {c.instance_id for c in ctx.v1()}
    v2_ids = {c.instance_id for c in ctx.v2()}
    rep.check(
        "routing: every api-v1 replica answers default traffic, and only they",
        v1_seen == v1_ids,
        f"X-Instance seen {sorted(v1_seen)}; api-v1 containers {sorted(v1_ids)}",
    )
    rep.check(
        "routing: X-Experiment-Group: debug reaches api-v2 only",
        v2_seen == v2_ids and v2_variants == {"v2"},
        f"X-Instance seen {sorted(v2_seen)} with X-Model-Variant {sorted(v2_variants)}; "
        f"api-v2 containers {sorted(v2_ids)}",
    )


def _replica_cycle(ctx, rep, name, victim, stop_cmd):
    """Stop a replica with `stop_cmd`, start it again, and check nothing failed and it came back."""
    seen = {}

    def action():
        seen["t_down"] = time.time()
        sh(stop_cmd + [victim.id], timeout=120)
        time.sleep(5)
        sh(["docker", "start", victim.id])
        ctx.stack.wait_ready(victim, timeout=90)
        seen["t_ready"] = time.time()

    total, _, _ = ctx.under_load(action, clients_n=3, duration=40, warmup=5, tag=name[:4])
    rep.check(
        f"{name}: every request answered 200 across the outage",
        all_ok(total),
        f"{clients.describe(total)}; worst latency {worst_latency(total):.0f} ms",
    )
    inst = victim.instance_id
    if inst not in instances(total, 0, seen.get("t_down", 0)):
        before = set(instances(total, 0, seen.get("t_down", 0)))
        during = set(instances(total, seen.get("t_down", 0) + 3, seen.get("t_ready", 0)))
        gone = sorted(before - during)
        rep.info(
            f"{victim.name} hostname {inst!r} not among X-Instance values {sorted(before)}; "
            f"using the one that vanished while it was down: {gone}"
        )
        inst = gone[0] if len(gone) == 1 else inst
    back = seen_after(total, inst, seen.get("t_ready", 1e18))
    after_all = instances(total, seen.get("t_ready", 1e18))
    rep.check(
        f"{name}: {victim.name} serves again after restart",
        bool(back),
        f"X-Instance {inst!r} answered {len(back)} requests after it was ready again; "
        f"instances after restart: {after_all}",
    )


def test_failover_kill(ctx, rep):
    """docker kill (SIGKILL) of one api-v1 replica under load, then docker start."""
    victim = ctx.v1()[0]
    _replica_cycle(ctx, rep, "failover-kill", victim, ["docker", "kill"])


def test_failover_stop(ctx, rep):
    """docker stop (SIGTERM, graceful drain) of one api-v1 replica under load, then docker start."""
    victim = ctx.v1()[-1]
    _replica_cycle(ctx, rep, "failover-stop", victim, ["docker", "stop", "-t", "30"])


def test_rolling_restart(ctx, rep):
    """Restart the three v1 replicas one by one, then v2, under v1 and v2 (debug) load."""
    v1, v2 = ctx.v1(), ctx.v2()
    marks = {}

    def action():
        for c in v1 + v2:
            sh(["docker", "stop", "-t", "30", c.id], timeout=120)
            sh(["docker", "start", c.id])
            ctx.stack.wait_ready(c, timeout=90)
            marks[c.name] = time.time()
            time.sleep(3)
        marks["end"] = time.time()

    debug = {2: ["X-Experiment-Group: debug"]}
    total, per_client, _ = ctx.under_load(
        action, clients_n=3, duration=70, warmup=5, headers_per_client=debug, tag="roll"
    )
    v1_total = clients.merge([r for r in per_client if r["client"] != "roll2"])
    v2_total = clients.merge([r for r in per_client if r["client"] == "roll2"])
    rep.check(
        "rolling-restart: v1 traffic, every request answered 200",
        all_ok(v1_total),
        f"{len(v1)} replicas restarted one by one; {clients.describe(v1_total)}; "
        f"worst latency {worst_latency(v1_total):.0f} ms",
    )
    rep.check(
        "rolling-restart: v2 (debug) traffic, every request answered 200",
        all_ok(v2_total),
        f"{len(v2)} v2 instance(s) restarted after v1; {clients.describe(v2_total)}",
    )
    done = marks.get("end", 1e18)
    after = instances(v1_total, done)
    rep.check(
        "rolling-restart: all v1 replicas serve after the roll",
        len(after) >= len(v1),
        f"X-Instance values after the last restart: {after}",
    )
    variants = sorted({e[4] for e in v2_total["events"] if e[1] == 200})
    rep.check(
        "rolling-restart: debug header still routes to v2",
        variants == ["v2"],
        f"X-Model-Variant seen by the debug client: {variants}",
    )


def test_gateway_reload(ctx, rep):
    """nginx -s reload with a changed configuration, three times, under load."""
    from rlib import nginxconf

    state = {}

    def action():
        state["workers_before"] = nginxconf.worker_pids(ctx)
        for i in range(3):
            nginxconf.change_and_reload(ctx, f"resilience reload {i} at {time.time():.0f}")
            time.sleep(3)
        state["workers_after"] = nginxconf.worker_pids(ctx)
        nginxconf.restore_and_reload(ctx)

    import t_reconcile

    prom, urls = t_reconcile._targets(ctx)
    before = t_reconcile._counts(t_reconcile._read(prom, urls), [])
    try:
        total, _, _ = ctx.under_load(action, clients_n=3, duration=25, warmup=4, tag="rld")
    finally:
        nginxconf.restore_and_reload(ctx)
    time.sleep(3)
    after = t_reconcile._counts(t_reconcile._read(prom, urls), [])
    rep.check("gateway-reload: every request answered 200 across 3 reloads", all_ok(total), clients.describe(total))
    # A stale keep-alive retry is safe only if the first attempt never reached Nginx: then the gateway
    # counted exactly one request per answer, not one per attempt.
    answered = sum(total["status"].values())
    gw = after["gw_all"] - before["gw_all"]
    rep.check(
        "gateway-reload: connections closed by the reload lost or duplicated nothing",
        gw == answered,
        f"gateway_requests_total{{route=/predict}} rose by {gw:.0f} for {answered} answers and "
        f"{total['stale_retries']} retried idle keep-alive connections closed by the old workers",
    )
    before, after = state.get("workers_before", []), state.get("workers_after", [])
    rep.check(
        "gateway-reload: the reload really replaced the workers",
        bool(before) and bool(after) and not set(before) & set(after),
        f"worker pids before {before}, after {after}",
    )
