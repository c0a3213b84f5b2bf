"""Experiments: the weighted sticky split, ramped live with `make reload-gateway` under load.

The split (nginx/conf/ab-routing.conf) hashes a user's identity onto [0, 100 %) and gives v2 the
first AB_V2_PERCENT of it. Probed with 200 fixed user ids on /health/live (which follows the same
routing and has the loose open-route limit, so 200 probes take seconds, not the /predict limit's
20 s), at 10, 30 and 50 %: each share is near its weight, the v2 users of a lower weight are all
still on v2 at a higher one (monotone), and the same ids land in the same arm twice (sticky). The
hash is deterministic, so the shares are fixed numbers for these ids, not a coin toss per run.
"""

import os
import time

from rlib import clients, http
from rlib.stack import REPO, sh
from t_availability import all_ok

USERS = [f"resilience-user-{i}" for i in range(200)]
COOKIE = "emotion_ab"


def _reload(percent, check=True):
    env = dict(os.environ, AB_V2_PERCENT=str(percent))
    return sh([str(REPO / "scripts" / "reload-gateway.sh")], env=env, check=check, timeout=120)


def _variant(ctx, headers):
    a = http.request(ctx.host_port, "GET", "/health/live", headers=headers)
    return a.status, a.headers.get("x-model-variant"), a.headers.get("set-cookie")


def _arms(ctx):
    """{user id: variant} at the current weight, paced under the open routes' limit."""
    arms = {}
    for u in USERS:
        status, variant, _ = _variant(ctx, [("X-User-Id", u)])
        arms[u] = variant if status == 200 else f"status {status}"
        time.sleep(0.025)
    return arms


def _v2(arms):
    return {u for u, v in arms.items() if v == "v2"}


def test_ab_ramp(ctx, rep):
    """Ramp AB_V2_PERCENT 10 -> 30 -> 50 with live reloads under /predict load, then back to 0."""
    seen = {}

    def action():
        for percent in (10, 30, 50):
            _reload(percent)
            time.sleep(1)
            seen[percent] = _arms(ctx)
        return True

    try:
        total, _, _ = ctx.under_load(action, clients_n=3, duration=35, warmup=3, tag="abr")
        rep.check(
            "ab-ramp: every request answered 200 across three live weight changes",
            all_ok(total),
            clients.describe(total),
        )
        bad = {p: [v for v in a.values() if v not in ("v1", "v2")] for p, a in seen.items() if a}
        rep.check("ab-ramp: every probe answered by v1 or v2", not any(bad.values()), f"other answers: {bad}")
        shares = {p: len(_v2(a)) for p, a in seen.items() if a}
        # 200 users, binomial sd at 50 % is about 7: 4 sd either side.
        near = all(abs(shares[p] - 2 * p) <= 28 for p in (10, 30, 50))
        rep.check(
            "ab-ramp: the share of users on v2 follows the weight",
            near,
            "v2 users of 200: " + ", ".join(f"{p}% -> {shares[p]}" for p in (10, 30, 50)),
        )
        left = {(lo, hi): sorted(_v2(seen[lo]) - _v2(seen[hi])) for lo, hi in ((10, 30), (30, 50))}
        rep.check(
            "ab-ramp: raising the weight moves users only from v1 to v2 (monotone)",
            not any(left.values()),
            "; ".join(f"{lo}->{hi}: {len(v)} users went back to v1" for (lo, hi), v in left.items()),
        )
        again = _arms(ctx)
        flipped = [u for u in USERS if again[u] != seen[50][u]]
        rep.check(
            "ab-ramp: a user keeps their arm while the weight stays (sticky)",
            not flipped,
            f"{len(flipped)} of {len(USERS)} users answered by another variant on a second pass",
        )

        # Forcing headers beat the split, both ways.
        v2_user = next(iter(sorted(_v2(seen[50]))))
        v1_user = next(u for u in USERS if seen[50][u] == "v1")
        forced = (
            _variant(ctx, [("X-User-Id", v2_user), ("X-Experiment-Group", "control")])[1],
            _variant(ctx, [("X-User-Id", v1_user), ("X-Experiment-Group", "debug")])[1],
        )
        rep.check(
            "ab-ramp: X-Experiment-Group control forces v1 and debug forces v2, whatever the split",
            forced == ("v1", "v2"),
            f"control -> {forced[0]}, debug -> {forced[1]}",
        )

        # Without an id: the gateway sets its cookie once, and the cookie keeps the arm.
        status, variant, cookie = _variant(ctx, [])
        attrs = {a.strip().split("=")[0].lower() for a in (cookie or "").split(";")}
        value = (cookie or "").split(";")[0]
        good = value.startswith(COOKIE + "=") and {"secure", "httponly", "samesite"} <= attrs
        rep.check(
            "ab-ramp: a user without id or cookie gets the first-party cookie (Secure, HttpOnly, SameSite)",
            status == 200 and good,
            f"{status}, Set-Cookie: {cookie!r}",
        )
        back = [_variant(ctx, [("Cookie", value)]) for _ in range(5)]
        rep.check(
            "ab-ramp: with the cookie, the same arm and no new cookie",
            all(b[1] == variant and not b[2] for b in back),
            f"first {variant}; with the cookie: {[(b[1], b[2]) for b in back]}",
        )
        with_id = _variant(ctx, [("X-User-Id", "someone")])[2]
        rep.check("ab-ramp: no cookie for a user who sends X-User-Id", not with_id, f"Set-Cookie: {with_id!r}")

        before = _variant(ctx, [("X-User-Id", v2_user)])[1]
        bad_reload = _reload(101, check=False)
        after = _variant(ctx, [("X-User-Id", v2_user)])[1]
        rep.check(
            "ab-ramp: an invalid weight is refused and the running split is untouched",
            bad_reload.returncode != 0 and "AB_V2_PERCENT" in bad_reload.stderr and before == after == "v2",
            f"exit {bad_reload.returncode}: {bad_reload.stderr.strip().splitlines()[-1:]}; "
            f"user on {before} before, {after} after",
        )
    finally:
        _reload(0, check=False)
    status, variant, cookie = _variant(ctx, [])
    rep.check(
        "ab-ramp: back at 0 %, users without a header are on v1 and get no cookie",
        status == 200 and variant == "v1" and not cookie,
        f"{status} {variant} Set-Cookie: {cookie!r}",
    )


# --- The end-to-end experiment (issue 10.8) ---------------------------------------------------------

EXPERIMENT_USERS = 300
ROWS_PER_USER = 2
CHALLENGER = "challenger/emotion-model.bin"


def _held_out_rows(n):
    """n rows of the held-out split (tweet_id divisible by 5, crates/emotion-model/src/data.rs),
    spread evenly over the file: (text, true label)."""
    import csv

    with open(REPO / "data" / "tweet_emotions.csv", newline="", encoding="utf-8") as f:
        rows = [(r["content"], r["sentiment"]) for r in csv.DictReader(f) if int(r["tweet_id"]) % 5 == 0]
    step = len(rows) / n
    return [rows[int(i * step)] for i in range(n)]


def _offline_labels(artifact, texts):
    """What an artifact predicts for `texts`, without any server (emotion-predict)."""
    import json

    exe = REPO / "target" / "release" / "emotion-predict"
    if not exe.exists():
        sh(["cargo", "build", "--release", "-q", "-p", "emotion-model", "--bin", "emotion-predict"], timeout=1200)
    out = sh([str(exe), "--model", str(REPO / "model" / artifact)], input="".join(json.dumps(t) + "\n" for t in texts))
    labels = out.stdout.split("\n")[:-1]
    assert len(labels) == len(texts), f"emotion-predict: {len(labels)} labels for {len(texts)} texts"
    return labels


def _feedback_totals(ctx):
    """{(variant, correct): count} summed over every API replica, read straight from them."""
    import t_reconcile
    from rlib import metrics as m

    prom, urls = t_reconcile._targets(ctx)
    got = m.scrape_from(prom.pid, [u for name, u in urls.items() if name.startswith(ctx.stack.project)])
    out = {}
    for samples in got.values():
        for name, labels, value in samples or []:
            if name == "emotion_feedback_total":
                key = (labels.get("variant"), labels.get("correct"))
                out[key] = out.get(key, 0) + value
    return out


def _shadow_totals(ctx):
    import t_reconcile
    from rlib import metrics as m

    prom, urls = t_reconcile._targets(ctx)
    samples = m.scrape_from(prom.pid, [urls["access-log-exporter"]])[urls["access-log-exporter"]] or []
    agree = {v: m.total(samples, "emotion_shadow_comparisons_total", agree=v) for v in ("true", "false")}
    return agree


def _set_v2_model(ctx, model):
    """Recreate api-v2 serving `model` (a path under model/; None: the default artifact)."""
    env = dict(os.environ)
    env.pop("V2_MODEL", None)
    if model:
        env["V2_MODEL"] = model
    # scripts/compose.sh: the same images (official or offline) the stack was started with.
    sh([str(REPO / "scripts" / "compose.sh"), "up", "-d", "--no-deps", "--no-build", "api-v2"], env=env, timeout=300)
    deadline = time.time() + 120
    while time.time() < deadline:
        cs = [c for c in ctx.stack.containers("api-v2") if c.running]
        if cs and all(c.health == "healthy" for c in cs):
            return
        time.sleep(1)
    raise RuntimeError("api-v2 not healthy 120 s after recreation")


def test_experiment(ctx, rep):
    """AB_V2_PERCENT=50, the challenger on v2, SHADOW_PERCENT=100: replay held-out rows for a few
    hundred users, send feedback with the true labels, and hold every number against the two
    artifacts' offline answers on the same rows."""
    import json

    rows = _held_out_rows(EXPERIMENT_USERS * ROWS_PER_USER)
    texts = [t for t, _ in rows]
    champion = _offline_labels("emotion-model.bin", texts)
    challenger = _offline_labels(CHALLENGER, texts)
    users = [f"experiment-user-{i}" for i in range(EXPERIMENT_USERS)]
    answers = []  # (user, row index, variant, label, receipt)
    try:
        _set_v2_model(ctx, CHALLENGER)
        # The per-address limit would make one host address replay for minutes; the split
        # keys on X-User-Id, so lifting it changes nothing the test checks.
        env = dict(os.environ, AB_V2_PERCENT="50", SHADOW_PERCENT="100", RATE_LIMIT_RPS="1000", RATE_LIMIT_BURST="1000")
        sh([str(REPO / "scripts" / "reload-gateway.sh")], env=env, timeout=120)
        feedback_before, shadow_before = _feedback_totals(ctx), _shadow_totals(ctx)
        for i, (text, _) in enumerate(rows):
            user = users[i // ROWS_PER_USER]
            a = http.request(
                ctx.host_port, "POST", "/predict", [("X-User-Id", user)], {"sentence": text}, auth=ctx.auth
            )
            body = a.json() or {}
            answers.append(
                (
                    user,
                    i,
                    a.headers.get("x-model-variant") if a.status == 200 else f"status {a.status}",
                    body.get("emotion"),
                    body.get("receipt"),
                )
            )
            time.sleep(0.01)
        feedback_status = {}
        for user, i, _, _, receipt in answers:
            if not receipt:
                continue
            a = http.request(
                ctx.host_port,
                "POST",
                "/feedback",
                [("X-User-Id", user)],
                {"receipt": receipt, "label": rows[i][1]},
                auth=ctx.auth,
            )
            feedback_status[a.status] = feedback_status.get(a.status, 0) + 1
            time.sleep(0.01)
        # The exporter's join sees the last mirror lines; Prometheus scrapes (5 s) twice.
        time.sleep(12)
        feedback_after, shadow_after = _feedback_totals(ctx), _shadow_totals(ctx)
        report = sh(
            [
                "cargo",
                "run",
                "--release",
                "-q",
                "-p",
                "experiment-report",
                "--",
                "--json",
                "--prometheus",
                ctx.prometheus,
            ],
            timeout=1200,
            check=False,
        )
    finally:
        sh([str(REPO / "scripts" / "reload-gateway.sh")], check=False, timeout=120)
        _set_v2_model(ctx, None)

    bad = [a for a in answers if a[2] not in ("v1", "v2")]
    rep.check(
        "experiment: every replayed prediction answered by v1 or v2",
        not bad,
        f"{len(answers)} predictions; not answered: {bad[:3]}",
    )
    arm = {}
    flipped = set()
    for user, _, variant, _, _ in answers:
        if arm.setdefault(user, variant) != variant:
            flipped.add(user)
    v2_share = 100 * sum(v == "v2" for v in arm.values()) / len(arm)
    rep.check(
        "experiment: the share of users on v2 is 50 +- 6 points, and no user flipped",
        abs(v2_share - 50) <= 6 and not flipped,
        f"{len(arm)} users, {v2_share:.1f} % on v2, {len(flipped)} flipped",
    )

    offline = {"v1": champion, "v2": challenger}
    wrong_label = [(i, v, lab, offline[v][i]) for _, i, v, lab, _ in answers if v in offline and lab != offline[v][i]]
    rep.check(
        "experiment: each arm answered exactly what its artifact predicts offline on the same rows",
        not wrong_label,
        f"{len(wrong_label)} answers differ from emotion-predict, e.g. {wrong_label[:3]}",
    )

    expected = {}
    for _, i, v, _, _ in answers:
        if v in offline:
            key = (v, "true" if offline[v][i] == rows[i][1] else "false")
            expected[key] = expected.get(key, 0) + 1
    got = {k: feedback_after.get(k, 0) - feedback_before.get(k, 0) for k in set(expected) | set(feedback_after)}
    got = {k: v for k, v in got.items() if v}
    rep.check(
        "experiment: feedback counts per arm equal the artifacts' offline accuracy on the same rows",
        got == expected and feedback_status.get(200, 0) == len(answers),
        f"counted {sorted(got.items())}, offline {sorted(expected.items())}, feedback statuses {feedback_status}",
    )

    mirrored = [i for _, i, v, _, _ in answers if v == "v1"]
    agree_offline = sum(champion[i] == challenger[i] for i in mirrored)
    agree = {k: shadow_after[k] - shadow_before[k] for k in shadow_after}
    rep.check(
        "experiment: shadow agreement equals the two artifacts' offline agreement on the mirrored rows",
        agree.get("true") == agree_offline and agree.get("false") == len(mirrored) - agree_offline,
        f"exporter: {agree.get('true'):.0f} agree, {agree.get('false'):.0f} disagree; offline on "
        f"{len(mirrored)} mirrored rows: {agree_offline} agree",
    )

    empty = _empty_dashboard_queries(ctx, "experiment.json")
    rep.check(
        "experiment: every query of the A/B experiment dashboard returns data after the run",
        not empty,
        f"no data: {empty[:4]}" if empty else "all panel queries of experiment.json answered",
    )

    try:
        doc = json.loads(report.stdout)
    except ValueError:
        doc = None
    rep.check(
        "experiment: experiment-report runs and prints JSON",
        report.returncode == 0 and doc is not None,
        f"exit {report.returncode}: {(report.stderr or report.stdout).strip()[-300:]}",
    )
    if doc is not None:
        want = _expected_verdict(expected)
        got_verdict = _verdict_kind(doc)
        rep.check(
            "experiment: the report's verdict is what the offline numbers imply",
            got_verdict == want,
            f"report: {got_verdict!r}; offline counts imply {want!r}",
        )


def _expected_verdict(counts):
    """The verdict kind the offline counts imply: a pooled two-sided two-proportion z-test of v2's
    accuracy against v1's at alpha 0.05 (the rule in crates/experiment-report), computed here with
    the standard library, independently of the report's statrs code."""
    from statistics import NormalDist

    x1, x2 = counts.get(("v1", "true"), 0), counts.get(("v2", "true"), 0)
    n1, n2 = x1 + counts.get(("v1", "false"), 0), x2 + counts.get(("v2", "false"), 0)
    if not n1 or not n2:
        return "no_data"
    pooled = (x1 + x2) / (n1 + n2)
    se = (pooled * (1 - pooled) * (1 / n1 + 1 / n2)) ** 0.5
    if se == 0:
        return "no_significant_difference"
    z = (x2 / n2 - x1 / n1) / se
    p = 2 * (1 - NormalDist().cdf(abs(z)))
    if p >= 0.05:
        return "no_significant_difference"
    return "v2_better" if z > 0 else "v2_worse"


def _verdict_kind(doc):
    verdict = doc.get("verdict") if isinstance(doc, dict) else None
    return verdict.get("kind") if isinstance(verdict, dict) else None


def test_shadow_same_artifact(ctx, rep):
    """SHADOW_PERCENT=100 with the same artifact on v1 and v2: every mirrored sentence agrees, and
    the client sees v1's answer and nothing of the shadow."""
    rows = _held_out_rows(60)
    batch = [t for t, _ in rows[40:]]
    try:
        sh([str(REPO / "scripts" / "reload-gateway.sh")], env=dict(os.environ, SHADOW_PERCENT="100"), timeout=120)
        before = _shadow_totals(ctx)
        answers = []
        for text, _ in rows[:40]:
            answers.append(http.request(ctx.host_port, "POST", "/predict", [], {"sentence": text}, auth=ctx.auth))
            time.sleep(0.12)  # under the default /predict limit
        answers.append(http.request(ctx.host_port, "POST", "/predict/batch", [], {"sentences": batch}, auth=ctx.auth))
        time.sleep(3)
        after = _shadow_totals(ctx)
    finally:
        sh([str(REPO / "scripts" / "reload-gateway.sh")], check=False, timeout=120)
    seen = {(a.status, a.headers.get("x-model-variant")) for a in answers}
    leaked = [a for a in answers if "x-predicted-labels" in a.headers or "x-shadow" in a.headers]
    rep.check(
        "shadow: clients get v1's answer, and no shadow header leaks",
        seen == {(200, "v1")} and not leaked,
        f"status/variant seen {seen}; {len(leaked)} answers leak",
    )
    sentences = 40 + len(batch)
    agree = after["true"] - before["true"]
    disagree = after["false"] - before["false"]
    rep.check(
        "shadow: with the same artifact on both sides, agreement is exactly 100 %",
        agree == sentences and disagree == 0,
        f"{agree:.0f} agree, {disagree:.0f} disagree, of {sentences} mirrored sentences",
    )


def test_shadow_v2_hung(ctx, rep):
    """SHADOW_PERCENT=100 while every api-v2 replica is paused for 20 s, under v1 load on
    keep-alive connections: the shadow is best effort, so no client request fails, and the
    comparisons resume once v2 answers again."""
    v2 = [c.id for c in ctx.v2()]
    marks = {}

    def action():
        sh(["docker", "pause", *v2])
        marks["paused"] = time.time()
        try:
            time.sleep(20)
        finally:
            sh(["docker", "unpause", *v2])
            marks["resumed"] = time.time()
            marks["at_resume"] = _shadow_totals(ctx)

    try:
        sh([str(REPO / "scripts" / "reload-gateway.sh")], env=dict(os.environ, SHADOW_PERCENT="100"), timeout=120)
        total, _, _ = ctx.under_load(action, clients_n=3, duration=40, warmup=5, tag="shh")
        time.sleep(2)  # the last shadow lines reach the exporter
        after = _shadow_totals(ctx)
    finally:
        sh([str(REPO / "scripts" / "reload-gateway.sh")], check=False, timeout=120)
    during = [e for e in total["events"] if marks.get("paused", 0) <= e[0] <= marks.get("resumed", 1e18)]
    lat = sorted(e[5] for e in during)
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else 0.0
    rep.check(
        "shadow-v2-hung: with every v2 replica paused, every mirrored v1 request is still answered 200",
        all_ok(total) and bool(during),
        f"{clients.describe(total)}; during the pause {len(during)} requests, p99 {p99:.0f} ms, "
        f"worst {max(lat, default=0):.0f} ms",
    )
    resumed = after["true"] + after["false"] - sum(marks.get("at_resume", after).values())
    rep.check(
        "shadow-v2-hung: comparisons resume once v2 is unpaused",
        resumed > 0,
        f"{resumed:.0f} comparisons counted after the unpause",
    )


def _empty_dashboard_queries(ctx, name):
    """Panel queries of a dashboard that return nothing from the live Prometheus, run the way the
    e2e suite runs them (tests/e2e/checks_monitoring.py); the e2e run cannot see the shadow-only
    ones, which need mirrored traffic, so this is where they are held to returning data."""
    import json
    import sys

    sys.path.insert(0, str(REPO / "tests" / "e2e"))
    import checks_monitoring as cm
    from rlib import metrics as m

    dashboard = json.loads((REPO / "monitoring" / "grafana" / "dashboards" / name).read_text())
    return [where for where, expr in cm.panel_queries(dashboard) if not m.prom_query(expr, ctx.prometheus)]
