#!/usr/bin/env python3
"""Monitoring checks: Prometheus scrapes everything, the metrics show the traffic, and every
Grafana dashboard panel's query returns data from the live Prometheus.

python3 standard library only. run.py calls the functions in CHECKS after generating traffic,
with a context giving `prometheus_url` (e.g. http://127.0.0.1:9090) and `repo_root`. Each check
returns a short description of what it saw, or raises AssertionError saying what it saw instead.

Standalone:

    python3 tests/e2e/checks_monitoring.py --static                 # files only (monitoring/check.sh)
    python3 tests/e2e/checks_monitoring.py --prometheus-url http://127.0.0.1:9090   # everything

Metrics appear only after a scrape (every 5 s) and rates need two samples, so the live checks
retry for a bounded time (WAIT_SECONDS) before failing.
"""

from __future__ import annotations

import argparse
import datetime
import json
import pathlib
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

WAIT_SECONDS = 60.0
RETRY_PAUSE = 3.0
HTTP_TIMEOUT = 10.0
EXPECTED_JOBS = {"prometheus", "nginx", "gateway-log", "api-v1", "api-v2"}
VARIANTS = ("v1", "v2")
DATASOURCE_TYPE = "prometheus"

# How Grafana's built-in variables are replaced when a panel query is run directly against
# Prometheus. $__rate_interval is at least 4 scrape intervals (20 s at 5 s); 1m keeps a margin.
GRAFANA_VARIABLES = {
    "__rate_interval": "1m",
    "__interval": "15s",
    "__range": "1h",
    "__range_s": "3600",
    "__interval_ms": "15000",
}


# --------------------------------------------------------------------------- helpers


def _get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT) as response:
        return json.load(response)


def query(ctx, expr: str) -> list[dict]:
    """Instant query; returns the result vector (raises AssertionError on a PromQL error)."""
    url = ctx.prometheus_url.rstrip("/") + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        body = _get_json(url)
    except urllib.error.HTTPError as exc:  # 400/422: the expression itself is wrong
        detail = exc.read().decode(errors="replace")[:300]
        raise AssertionError(f"query {expr!r} -> HTTP {exc.code}: {detail}") from None
    if body.get("status") != "success":
        raise AssertionError(f"query {expr!r} -> {body.get('errorType')}: {body.get('error')}")
    data = body["data"]
    if data["resultType"] in ("scalar", "string"):
        return [{"metric": {}, "value": data["result"]}]
    return data["result"]


def by_label(results: list[dict], label: str) -> dict[str, float]:
    return {r["metric"].get(label, ""): float(r["value"][1]) for r in results}


def eventually(check, timeout: float = WAIT_SECONDS):
    """Runs `check` until it stops raising AssertionError or `timeout` passes (then re-raises)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(RETRY_PAUSE)


def _rfc3339_seconds(stamp: str) -> float:
    """Prometheus' lastScrape (RFC 3339, nanoseconds, Z or offset) as Unix seconds."""
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$", stamp)
    assert m, f"unexpected timestamp {stamp!r}"
    zone = "+00:00" if m.group(3) == "Z" else m.group(3)
    base = datetime.datetime.fromisoformat(m.group(1) + zone).timestamp()
    return base + float("0" + (m.group(2) or ".0"))


def wait_for_fresh_scrape(ctx, job: str) -> None:
    """Waits until every target of `job` has been scraped after this call started (on the
    Prometheus server's clock), so the checks see everything sent before them, not a stale
    sample taken mid-traffic."""
    start = float(query(ctx, "time()")[0]["value"][1])
    url = ctx.prometheus_url.rstrip("/") + "/api/v1/targets?state=active"

    def attempt():
        targets = [t for t in _get_json(url)["data"]["activeTargets"] if t["labels"].get("job") == job]
        assert targets, f"no targets for job {job}"
        stale = [t["labels"].get("instance") for t in targets if _rfc3339_seconds(t["lastScrape"]) <= start]
        assert not stale, f"job {job}: no scrape since the check started for {stale}"

    eventually(attempt, timeout=30)


def dashboard_files(repo_root: pathlib.Path) -> list[pathlib.Path]:
    return sorted((repo_root / "monitoring" / "grafana" / "dashboards").glob("*.json"))


def provisioning_dir(repo_root: pathlib.Path) -> pathlib.Path:
    return repo_root / "monitoring" / "grafana" / "provisioning"


def walk_panels(panels: list[dict]):
    """Every panel, including those nested in collapsed rows."""
    for panel in panels:
        yield panel
        yield from walk_panels(panel.get("panels", []))


def substitute(expr: str, variables: dict[str, str]) -> str:
    """Replaces $name, ${name}, ${name:format} and [[name]] (longest names first)."""
    for name in sorted(variables, key=len, reverse=True):
        value = variables[name]
        expr = re.sub(r"\$\{" + re.escape(name) + r"(:[a-z]+)?\}", lambda _m, v=value: v, expr)
        expr = expr.replace("[[" + name + "]]", value)
        expr = re.sub(r"\$" + re.escape(name) + r"(?![A-Za-z0-9_])", lambda _m, v=value: v, expr)
    return expr


def panel_queries(dashboard: dict) -> list[tuple[str, str]]:
    """(where, expression) for every query of every panel, template variables substituted.

    A query using the `variant` variable is run once per variant: an A/B dashboard must show
    both. Any other custom variable makes the check fail loudly (it needs a substitution here).
    """
    custom = [v["name"] for v in dashboard.get("templating", {}).get("list", [])]
    unknown = [name for name in custom if name != "variant"]
    if unknown:
        raise AssertionError(f"{dashboard.get('uid')}: no substitution known for variables {unknown}")
    out = []
    for panel in walk_panels(dashboard.get("panels", [])):
        for target in panel.get("targets", []):
            expr = target.get("expr")
            if not expr:
                continue
            where = f"{dashboard['uid']} / {panel.get('title')!r} / {target.get('refId')}"
            base = substitute(expr, GRAFANA_VARIABLES)
            if re.search(r"\$\{?variant\b|\[\[variant\]\]", base):
                runs = [(f"{where} [variant={v}]", substitute(base, {"variant": v})) for v in VARIANTS]
            else:
                runs = [(where, base)]
            for name, final in runs:
                leftover = re.findall(r"\$\{?[A-Za-z_]\w*", final)
                if leftover:
                    raise AssertionError(f"{name}: unsubstituted variables {leftover} in {expr!r}")
            out += runs
    return out


def provisioned_datasource_uids(repo_root: pathlib.Path) -> dict[str, str]:
    """uid -> type of every provisioned data source. The files are a few flat lines of YAML, so a
    line-based reading suffices (no PyYAML: stdlib only); list items start with `- `."""
    uids: dict[str, str] = {}
    for path in sorted((provisioning_dir(repo_root) / "datasources").glob("*.y*ml")):
        entries: list[dict[str, str]] = []
        for raw in path.read_text().splitlines():
            line = raw.split("#", 1)[0].rstrip()
            m = re.match(r"^\s*(-\s+)?([A-Za-z_]+):\s*(.*)$", line)
            if not m:
                continue
            if m.group(1):
                entries.append({})
            if entries and m.group(3):
                entries[-1].setdefault(m.group(2), m.group(3).strip().strip("\"'"))
        for entry in entries:
            if "uid" in entry:
                uids[entry["uid"]] = entry.get("type", "")
    return uids


# --------------------------------------------------------------------------- static checks


def check_provisioning_files(ctx) -> str:
    prov = provisioning_dir(ctx.repo_root)
    uids = provisioned_datasource_uids(ctx.repo_root)
    assert uids, f"no data source with a uid under {prov / 'datasources'}"
    assert DATASOURCE_TYPE in uids.values(), f"no data source of type prometheus: {uids}"
    providers = sorted((prov / "dashboards").glob("*.y*ml"))
    assert providers, f"no dashboard provider under {prov / 'dashboards'}"
    paths = []
    for path in providers:
        text = path.read_text()
        assert re.search(r"^apiVersion:\s*1\s*$", text, re.M), f"{path.name}: apiVersion 1 missing"
        assert re.search(r"^\s*type:\s*file\s*$", text, re.M), f"{path.name}: not a file provider"
        paths += re.findall(r"^\s*path:\s*(\S+)", text, re.M)
    assert paths, "dashboard provider has no options.path"
    return f"data sources {sorted(uids)}; dashboard provider path {paths}"


def check_dashboards_static(ctx) -> str:
    files = dashboard_files(ctx.repo_root)
    assert files, "no dashboards in monitoring/grafana/dashboards"
    uids = provisioned_datasource_uids(ctx.repo_root)
    seen_uids: dict[str, str] = {}
    total = 0
    for path in files:
        try:
            dashboard = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise AssertionError(f"{path.name}: invalid JSON: {exc}") from None
        uid = dashboard.get("uid")
        assert isinstance(uid, str) and re.fullmatch(r"[A-Za-z0-9_-]{1,40}", uid), f"{path.name}: bad uid {uid!r}"
        assert uid not in seen_uids, f"{path.name}: uid {uid} also used by {seen_uids[uid]}"
        seen_uids[uid] = path.name
        assert dashboard.get("title"), f"{path.name}: no title"
        assert dashboard.get("id") is None, f"{path.name}: a fixed numeric id breaks provisioning; use uid only"
        ids = []
        for panel in walk_panels(dashboard.get("panels", [])):
            ids.append(panel.get("id"))
            refs = [panel.get("datasource")] + [t.get("datasource") for t in panel.get("targets", [])]
            for ref in refs:
                if isinstance(ref, dict) and ref.get("type") != "grafana":
                    assert ref.get("uid") in uids, (
                        f"{path.name}: panel {panel.get('title')!r} uses data source uid {ref.get('uid')!r}, "
                        f"provisioned: {sorted(uids)}"
                    )
            if panel.get("type") != "row":
                assert panel.get("targets"), f"{path.name}: panel {panel.get('title')!r} has no query"
                for target in panel["targets"]:
                    assert target.get("expr"), f"{path.name}: panel {panel.get('title')!r} has an empty query"
        assert len(ids) == len(set(ids)), f"{path.name}: duplicate panel ids"
        for variable in dashboard.get("templating", {}).get("list", []):
            ref = variable.get("datasource")
            if isinstance(ref, dict):
                assert ref.get("uid") in uids, f"{path.name}: variable {variable.get('name')} uses unknown data source"
        total += len(panel_queries(dashboard))
    return f"{len(files)} dashboards {sorted(seen_uids)}, {total} queries, data source uids resolve"


# --------------------------------------------------------------------------- live checks


def check_targets_up(ctx) -> str:
    want_v1 = getattr(ctx, "v1_replicas", 3)
    url = ctx.prometheus_url.rstrip("/") + "/api/v1/targets?state=active"

    def attempt():
        targets = _get_json(url)["data"]["activeTargets"]
        jobs: dict[str, list[str]] = {}
        down = []
        for t in targets:
            job = t["labels"].get("job", "?")
            jobs.setdefault(job, []).append(t["labels"].get("instance", "?"))
            if t["health"] != "up":
                down.append(f"{job}/{t['labels'].get('instance')}: {t['health']} {t.get('lastError', '')}".strip())
        missing = EXPECTED_JOBS - jobs.keys()
        assert not missing, f"jobs missing: {sorted(missing)}; seen {sorted(jobs)}"
        assert not down, f"targets not up: {down}"
        v1 = jobs.get("api-v1", [])
        assert len(v1) == want_v1, f"api-v1 has {len(v1)} targets {sorted(v1)}, want {want_v1}"
        return ", ".join(f"{job}={len(insts)}" for job, insts in sorted(jobs.items()))

    return "all up: " + eventually(attempt)


def check_nginx_up(ctx) -> str:
    def attempt():
        values = [float(r["value"][1]) for r in query(ctx, "nginx_up")]
        assert values, "nginx_up has no series (is job nginx scraped?)"
        assert all(v == 1 for v in values), f"nginx_up = {values}"
        return f"nginx_up = {values}"

    return eventually(attempt)


def check_api_requests_per_variant(ctx) -> str:
    expr = 'sum by (variant) (emotion_api_requests_total{route=~"/predict|/predict/batch"})'
    wait_for_fresh_scrape(ctx, "api-v2")

    def attempt():
        seen = by_label(query(ctx, expr), "variant")
        assert all(seen.get(v, 0) > 0 for v in VARIANTS), f"prediction requests by variant: {seen}"
        return f"prediction requests by variant: {seen}"

    return eventually(attempt)


def check_gateway_requests(ctx) -> str:
    wait_for_fresh_scrape(ctx, "gateway-log")

    def attempt():
        seen = by_label(query(ctx, "sum by (variant) (gateway_requests_total)"), "variant")
        assert all(seen.get(v, 0) > 0 for v in VARIANTS), f"gateway_requests_total by variant: {seen}"
        lines = by_label(query(ctx, "sum by (result) (gateway_log_lines_total)"), "result")
        # Every datagram Nginx sends must parse: a rejection means log format and exporter disagree.
        assert lines.get("parsed", 0) > 0 and lines.get("rejected", 0) == 0, f"gateway_log_lines_total: {lines}"
        statuses = by_label(query(ctx, "sum by (status) (gateway_requests_total)"), "status")
        return f"by variant {seen}; by status {statuses}; log lines {lines}"

    return eventually(attempt)


def check_rules_loaded(ctx) -> str:
    """Every alert defined in monitoring/prometheus/rules is loaded and evaluates without error."""
    defined = set()
    for path in sorted((ctx.repo_root / "monitoring" / "prometheus" / "rules").glob("*.yml")):
        defined |= set(re.findall(r"^\s*-\s*alert:\s*(\w+)", path.read_text(), re.M))
    assert defined, "no alert rules found in monitoring/prometheus/rules"
    url = ctx.prometheus_url.rstrip("/") + "/api/v1/rules"

    def attempt():
        rules = [r for g in _get_json(url)["data"]["groups"] for r in g["rules"]]
        loaded = {r["name"] for r in rules if r["type"] == "alerting"}
        missing = defined - loaded
        assert not missing, f"alerts defined but not loaded: {sorted(missing)}"
        broken = [f"{r['name']}: {r.get('lastError')}" for r in rules if r.get("health") not in ("ok", "unknown")]
        assert not broken, f"rules failing to evaluate: {broken}"
        unevaluated = [r["name"] for r in rules if r.get("health") == "unknown"]
        assert not unevaluated, f"rules not evaluated yet: {unevaluated}"
        firing = sorted({r["name"] for r in rules if r.get("state") == "firing"})
        return f"{len(loaded)} alerts and {len(rules) - len(loaded)} recording rules healthy; firing now: {firing or 'none'}"

    return eventually(attempt)


# Series that exist only once the gateway has mirrored traffic (SHADOW_PERCENT > 0): the label
# pairs carry the two models' labels, which nothing can know before the first comparison.
SHADOW_ONLY = ("emotion_shadow_label_pairs_total",)


def check_dashboard_queries_return_data(ctx) -> str:
    queries = []
    for path in dashboard_files(ctx.repo_root):
        queries += panel_queries(json.loads(path.read_text()))
    assert queries, "no dashboard queries found"
    skipped = []
    if not any(float(r["value"][1]) > 0 for r in query(ctx, "sum(emotion_shadow_comparisons_total)")):
        skipped = [(w, e) for w, e in queries if any(m in e for m in SHADOW_ONLY)]
        queries = [q for q in queries if q not in skipped]
    note = f"; {len(skipped)} shadow-only queries not run: no shadow traffic on this deployment" if skipped else ""
    pending = list(queries)
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        failures = []
        for where, expr in pending:
            try:
                if not query(ctx, expr):
                    failures.append((where, expr, "empty result"))
            except AssertionError as exc:
                failures.append((where, expr, str(exc)))
        if not failures:
            return (
                f"{len(queries)} panel queries over {len(dashboard_files(ctx.repo_root))} dashboards "
                f"all return data{note}"
            )
        if time.monotonic() >= deadline:
            detail = "; ".join(f"{w}: {e!r} -> {why}" for w, e, why in failures[:8])
            raise AssertionError(f"{len(failures)}/{len(queries)} panel queries return no data: {detail}")
        pending = [(w, e) for w, e, _ in failures]
        time.sleep(RETRY_PAUSE)


STATIC_CHECKS = [
    ("grafana provisioning files are consistent", check_provisioning_files),
    ("dashboards are valid JSON with uids and known data sources", check_dashboards_static),
]

CHECKS = STATIC_CHECKS + [
    ("prometheus targets all up, api-v1 has every replica", check_targets_up),
    ("nginx_up is 1", check_nginx_up),
    ("API metrics show prediction requests for v1 and v2", check_api_requests_per_variant),
    ("gateway_requests_total has data for v1 and v2, no rejected log lines", check_gateway_requests),
    ("alert and recording rules loaded and evaluating", check_rules_loaded),
    ("every dashboard panel query returns data", check_dashboard_queries_return_data),
]


@dataclass
class _Context:
    prometheus_url: str | None
    repo_root: pathlib.Path
    v1_replicas: int = 3


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prometheus-url", help="run the live checks against this Prometheus")
    parser.add_argument("--static", action="store_true", help="only the checks that read files")
    parser.add_argument("--v1-replicas", type=int, default=3)
    parser.add_argument("--repo-root", type=pathlib.Path, default=pathlib.Path(__file__).resolve().parents[2])
    args = parser.parse_args(argv)
    if not args.static and not args.prometheus_url:
        parser.error("give --prometheus-url, or --static for the file checks only")
    ctx = _Context(args.prometheus_url, args.repo_root, args.v1_replicas)
    failed = 0
    for name, fn in STATIC_CHECKS if args.static else CHECKS:
        try:
            print(f"PASS {name}: {fn(ctx)}")
        except AssertionError as exc:
            failed += 1
            print(f"FAIL {name}: {exc}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
