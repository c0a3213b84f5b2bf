"""What an operator does to a live stack, under load: recreate, scale, pause, partial start.

Each test runs paced load from client addresses (one of them sending `X-Experiment-Group: debug`)
while it changes the deployment, then checks what clients saw: failed requests, answers from the
wrong variant (X-Model-Variant against the header the client sent), latency during the change, and
that the replicas now running are the ones answering. No reload of nginx anywhere: it follows the
replicas by itself (nginx/conf/upstreams.conf).
"""

import os
import time

from rlib import clients, http, metrics
from rlib.stack import REPO, sh
from t_availability import all_ok, instances, worst_latency

DEBUG = ["X-Experiment-Group: debug"]


def misrouted(per_client, debug_clients):
    """(wrong, answered): 200s whose X-Model-Variant is not the one the client's header asks for."""
    wrong = answered = 0
    for r in per_client:
        want = "v2" if r["client"] in debug_clients else "v1"
        for e in r["events"]:
            if e[1] == 200:
                answered += 1
                wrong += e[4] != want
    return wrong, answered


def p99(events):
    lat = sorted(e[5] for e in events)
    return lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else 0.0


def between(total, t0, t1):
    return [e for e in total["events"] if t0 <= e[0] <= t1]


def _compose(ctx, *args, timeout=300):
    return sh(ctx.stack.compose_cmd() + list(args), timeout=timeout)


def _wait_service(ctx, service, n, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        cs = [c for c in ctx.stack.containers(service) if c.running]
        if len(cs) == n and all(c.health in ("", "healthy") for c in cs):
            return cs
        time.sleep(1)
    raise RuntimeError(f"{service}: not {n} healthy replicas after {timeout}s")


def test_recreate(ctx, rep):
    """`compose up -d --force-recreate` of both API services under v1 and debug load.

    Recreated replicas get new addresses; a v1 address may come back as... nothing else than v1, since
    each variant has its own network. Requests sent while all replicas of a service are being
    replaced at once may get the JSON 503 not_ready (compose stops them together); that is what
    `make rollout`-style scale-then-remove avoids (test `scale`), not what this test is about.
    """
    n1, n2 = len(ctx.v1()), len(ctx.v2())
    old = {c.instance_id for c in ctx.v1() + ctx.v2()}
    marks = {}

    def action():
        marks["start"] = time.time()
        _compose(ctx, "up", "-d", "--no-deps", "--force-recreate", "api-v1", "api-v2")
        _wait_service(ctx, "api-v1", n1)
        _wait_service(ctx, "api-v2", n2)
        marks["ready"] = time.time()

    total, per_client, _ = ctx.under_load(
        action, clients_n=3, duration=60, warmup=5, headers_per_client={2: DEBUG}, tag="rec"
    )
    wrong, answered = misrouted(per_client, {"rec2"})
    rep.check(
        "recreate: no request answered by the other variant",
        wrong == 0 and answered > 0,
        f"{wrong} of {answered} answers came from the wrong variant; {clients.describe(total)}",
    )
    ready = marks.get("ready", 1e18)
    after = between(total, ready + 3, 1e18)
    new = {c.instance_id for c in ctx.v1() + ctx.v2()}
    seen = set(instances(total, ready + 3))
    rep.check(
        "recreate: within 3 s of being healthy, every new replica serves and every request is 200",
        bool(after) and all(e[1] == 200 for e in after) and new <= seen and not (seen & old),
        f"{len(after)} requests after the new replicas were ready, "
        f"{sum(e[1] != 200 for e in after)} not 200; new replicas answering "
        f"{len(new & seen)}/{len(new)}; old ones still answering {len(seen & old)}; "
        f"replacement took {ready - marks.get('start', ready):.0f} s",
    )
    statuses = {e[1] for e in between(total, 0, ready)} - {200}
    rep.check(
        "recreate: while replaced, a request gets 200 or the JSON 503 not_ready, nothing else",
        statuses <= {503},
        f"statuses other than 200 during the replacement: {sorted(statuses) or 'none'}",
    )
    rep.info(
        f"recreate: sent {total['sent']}, failed {total['sent'] - total['status'].get('200', 0)}, "
        f"misrouted {wrong}, p99 during {p99(between(total, marks.get('start', 0), ready)):.0f} ms"
    )


def test_scale(ctx, rep):
    """Scale api-v1 up (3 -> 5) and back down under load, no reload: new replicas get traffic at once,
    removed ones cost nothing, no request fails."""
    n1 = len(ctx.v1())
    old = {c.instance_id for c in ctx.v1()}
    marks = {}

    def action():
        _compose(ctx, "up", "-d", "--no-deps", "--no-recreate", "--scale", f"api-v1={n1 + 2}", "api-v1")
        marks["added"] = {c.instance_id for c in _wait_service(ctx, "api-v1", n1 + 2)} - old
        marks["up"] = time.time()
        time.sleep(12)
        marks["down_start"] = time.time()
        _compose(ctx, "up", "-d", "--no-deps", "--no-recreate", "--scale", f"api-v1={n1}", "api-v1")
        _wait_service(ctx, "api-v1", n1)
        marks["down"] = time.time()
        time.sleep(12)

    total, _, _ = ctx.under_load(action, clients_n=3, duration=75, warmup=5, tag="scl")
    added = marks.get("added", set())
    up, down_start, down = marks.get("up", 1e18), marks.get("down_start", 1e18), marks.get("down", 1e18)
    served = set(instances(total, up + 3, down_start))
    rep.check(
        "scale: every request answered 200 while scaling up and down",
        all_ok(total),
        f"{clients.describe(total)}; worst latency {worst_latency(total):.0f} ms",
    )
    rep.check(
        "scale: the added replicas answer within 3 s of being healthy, with no reload",
        bool(added) and added <= served,
        f"added {sorted(added)}; answering between +3 s and the scale-down: {sorted(served)}",
    )
    after = between(total, down + 2, 1e18)
    gone = added - {c.instance_id for c in ctx.v1()}
    rep.check(
        "scale: after scaling down, no request waits on a removed replica",
        bool(after) and p99(after) < 500 and not (set(instances(total, down + 2)) & gone),
        f"{len(after)} requests after the scale-down: p99 {p99(after):.0f} ms, worst "
        f"{max((e[5] for e in after), default=0):.0f} ms",
    )
    rep.info(
        f"scale: sent {total['sent']}, failed {total['sent'] - total['status'].get('200', 0)}, "
        f"p99 while scaling down {p99(between(total, down_start, down + 2)):.0f} ms"
    )


def test_redeploy(ctx, rep):
    """`make redeploy` under v1 and debug load: every replica replaced, no request lost.

    The zero-failure way to do what `--force-recreate` does (test `recreate`): scripts/redeploy.sh
    starts the new replicas beside the old ones and stops an old one only when every new one is
    healthy. Every request must be 200 from the right variant, and afterwards only new replicas
    answer, as many as before.
    """
    n1, n2 = len(ctx.v1()), len(ctx.v2())
    old = {c.instance_id for c in ctx.v1() + ctx.v2()}
    marks = {}

    def action():
        marks["start"] = time.time()
        env = dict(os.environ, COMPOSE_PROJECT_NAME=ctx.stack.project)
        out = sh([str(REPO / "scripts" / "redeploy.sh")], timeout=600, env=env).stdout
        marks["done"] = time.time()
        return out

    total, per_client, out = ctx.under_load(
        action, clients_n=3, duration=100, warmup=5, headers_per_client={2: DEBUG}, tag="rdp"
    )
    done = marks.get("done", 1e18)
    ctx.refresh()
    new = {c.instance_id for c in ctx.v1() + ctx.v2()}
    wrong, answered = misrouted(per_client, {"rdp2"})
    rep.check(
        "redeploy: every request answered 200 by its variant while every replica is replaced",
        all_ok(total) and wrong == 0 and done < 1e18,
        f"{clients.describe(total)}; {wrong} of {answered} from the wrong variant; "
        f"worst latency {worst_latency(total):.0f} ms; took {done - marks.get('start', done):.0f} s",
    )
    seen = set(instances(total, done + 3))
    rep.check(
        "redeploy: afterwards only new replicas run and answer, as many as before",
        len(ctx.v1()) == n1 and len(ctx.v2()) == n2 and not (new & old) and seen and seen <= new,
        f"v1 {len(ctx.v1())}/{n1}, v2 {len(ctx.v2())}/{n2}; old still running {sorted(new & old)}; "
        f"answering after: {sorted(seen)}",
    )
    rep.info(
        f"redeploy: sent {total['sent']}, failed {total['sent'] - total['status'].get('200', 0)}, "
        f"misrouted {wrong}, p99 during {p99(between(total, marks.get('start', 0), done)):.0f} ms, "
        f"worst {worst_latency(total):.0f} ms"
    )


def test_pause(ctx, rep):
    """`docker pause` one api-v1 replica for 30 s under steady load: 0 failed."""
    victim = ctx.v1()[1]
    marks = {}

    def action():
        sh(["docker", "pause", victim.id])
        marks["paused"] = time.time()
        try:
            time.sleep(30)
        finally:
            sh(["docker", "unpause", victim.id])
            marks["resumed"] = time.time()

    total, _, _ = ctx.under_load(action, clients_n=3, duration=45, warmup=5, tag="pau")
    during = between(total, marks.get("paused", 0), marks.get("resumed", 1e18))
    rep.check(
        "pause: a replica paused for 30 s costs no request",
        all_ok(total),
        f"{clients.describe(total)}; during the pause {len(during)} requests, p99 "
        f"{p99(during):.0f} ms, worst {max((e[5] for e in during), default=0):.0f} ms",
    )
    rep.check(
        "pause: the paused replica serves again after unpause",
        victim.instance_id in instances(total, marks.get("resumed", 1e18) + 4),
        f"instances after resume: {instances(total, marks.get('resumed', 1e18) + 4)}",
    )


def _exporter_lines(ctx):
    prom = ctx.stack.one("prometheus")
    exp = ctx.stack.one("access-log-exporter")
    url = f"http://{exp.ip('back')}:9114/metrics"
    got = metrics.scrape_from(prom.pid, [url]).get(url) or []
    return metrics.total(got, "gateway_log_lines_total", result="parsed")


def test_partial_start(ctx, rep):
    """nginx restarted while every api-v2 replica and the log exporter are stopped."""
    v2 = ctx.v2()
    exporter = ctx.stack.one("access-log-exporter")
    port = ctx.host_port
    body = {"sentence": "what a lovely day"}
    stopped = [c.id for c in v2] + [exporter.id]
    try:
        sh(["docker", "stop", "-t", "10", *stopped], timeout=120)
        t0 = time.time()
        sh(["docker", "restart", "-t", "10", ctx.nginx.id], timeout=120)
        ctx.stack.wait_ready(ctx.nginx, timeout=60)
        up = time.time() - t0
        ok = http.request(port, "POST", "/predict", body=body, auth=ctx.auth)
        rep.check(
            "partial-start: nginx restarts with api-v2 and the exporter down, and v1 serves",
            ok.status == 200 and ok.headers.get("x-model-variant") == "v1",
            f"healthy {up:.1f} s after restart; /predict -> {ok.status} {ok.headers.get('x-model-variant')}",
        )
        dbg = http.request(
            port, "POST", "/predict", headers=[("X-Experiment-Group", "debug")], body=body, auth=ctx.auth
        )
        msg = ((dbg.json() or {}).get("error") or {}).get("message", "")
        rep.check(
            "partial-start: debug users get a JSON 503 not_ready naming v2, with Retry-After",
            dbg.status == 503
            and dbg.error_code() == "not_ready"
            and "v2" in msg
            and dbg.headers.get("retry-after", "").isdigit(),
            f"{dbg.status} {dbg.body[:160]!r} Retry-After={dbg.headers.get('retry-after')}",
        )
    finally:
        sh(["docker", "start", *stopped], timeout=120)
        for c in v2 + [exporter]:
            ctx.stack.wait_ready(c, timeout=90)
    deadline, back = time.time() + 20, None
    while time.time() < deadline:
        back = http.request(
            port, "POST", "/predict", headers=[("X-Experiment-Group", "debug")], body=body, auth=ctx.auth
        )
        if back.status == 200:
            break
        time.sleep(1)
    rep.check(
        "partial-start: once api-v2 is back, debug users reach it without a reload",
        back is not None and back.status == 200 and back.headers.get("x-model-variant") == "v2",
        f"{back.status if back else None} {back.headers.get('x-model-variant') if back else ''}",
    )
    before = _exporter_lines(ctx)
    for _ in range(5):
        http.request(port, "GET", "/health/live")
    time.sleep(2)
    after = _exporter_lines(ctx)
    rep.check(
        "partial-start: the restarted exporter receives the metrics feed again",
        after - before >= 5,
        f"gateway_log_lines_total{{result=parsed}} rose by {after - before:.0f} for 5 requests",
    )
