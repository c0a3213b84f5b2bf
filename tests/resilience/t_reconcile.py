"""Nothing lost: the load generator's counts reconcile with the gateway's and the APIs' counters.

Window: counters are read straight from the exporters (from inside Prometheus' network namespace)
once before the load starts and once after it ended and the access-log lines (UDP syslog) had 3 s to
arrive. Between the two reads the only /predict traffic is ours, so:

- gateway_requests_total{route="/predict"} (access-log-exporter) rises by exactly our count, per status;
- sum of emotion_api_requests_total{route="/predict"} over every API instance rises by exactly our 200s
  (no replica restarts in this test, so no counter is reset);
- nginx_http_requests_total (stub_status, every request on every server) rises by our count plus the
  stub_status scrapes in the window: Prometheus' scrapes of nginx-exporter and our own second read,
  bounded by window / scrape interval + 2; container health checks are counted the same way.

Then Prometheus itself must have scraped the same gateway and API totals once a scrape interval passed.
"""

import math
import time

from rlib import metrics

GW = "gateway_requests_total"
API = "emotion_api_requests_total"
NGX = "nginx_http_requests_total"


def _targets(ctx):
    st = ctx.stack
    prom = st.one("prometheus")
    urls = {}
    for svc, port in (("nginx-exporter", 9113), ("access-log-exporter", 9114)):
        c = st.one(svc)
        urls[svc] = f"http://{c.ip('back')}:{port}/metrics"
    for c in ctx.v1() + ctx.v2():
        if c.running:
            urls[c.name] = f"http://{c.ip('back')}:9100/metrics"
    return prom, urls


def _read(prom, urls):
    got = metrics.scrape_from(prom.pid, list(urls.values()))
    return {name: got.get(u) for name, u in urls.items()}


def _counts(snap, api_names):
    gw = snap["access-log-exporter"] or []
    out = {"ngx": metrics.total(snap["nginx-exporter"] or [], NGX)}
    for status in ("200", "429", "401", "502", "503", "504"):
        out[f"gw{status}"] = metrics.total(gw, GW, route="/predict", status=status)
    out["gw_all"] = metrics.total(gw, GW, route="/predict")
    out["api200"] = sum(metrics.total(snap.get(n) or [], API, route="/predict", status="200") for n in api_names)
    out["api_all"] = sum(metrics.total(snap.get(n) or [], API, route="/predict") for n in api_names)
    return out


def scrape_interval(ctx):
    """The global scrape interval, from Prometheus' own view of its configuration."""
    import json
    import re
    import urllib.request

    raw = urllib.request.urlopen(f"{ctx.prometheus}/api/v1/status/config", timeout=10).read()
    m = re.search(r"scrape_interval:\s*(\d+)s", json.loads(raw)["data"]["yaml"])
    return int(m.group(1)) if m else 15


def test_reconcile(ctx, rep):
    prom, urls = _targets(ctx)
    api_names = [c.name for c in ctx.v1() + ctx.v2()]
    before_snap = _read(prom, urls)
    missing = [n for n, s in before_snap.items() if s is None]
    if not rep.check(
        "reconcile: every exporter and API /metrics readable",
        not missing,
        f"read {len(urls) - len(missing)}/{len(urls)} endpoints; unreadable: {missing}",
    ):
        return
    t_before = time.time()
    total, _, _ = ctx.under_load(lambda: None, clients_n=3, duration=20, warmup=0, tag="rec")
    time.sleep(3)
    after_snap = _read(prom, urls)
    t_after = time.time()
    b, a = _counts(before_snap, api_names), _counts(after_snap, api_names)
    d = {k: a[k] - b[k] for k in a}
    sent, ok = total["sent"], total["status"].get("200", 0)
    answered = sum(total["status"].values())
    rep.check(
        "reconcile: load generator accounted for every request",
        total["unfinished"] == 0 and answered + sum(total["errors"].values()) == sent,
        f"sent={sent} answered={answered} errors={total['errors']} by status={total['status']}",
    )
    gw_ok = d["gw_all"] == answered and all(
        d.get(f"gw{s}", 0) == n for s, n in total["status"].items() if f"gw{s}" in d
    )
    rep.check(
        "reconcile: gateway_requests_total{route=/predict} delta == client responses",
        gw_ok,
        f"gateway delta {d['gw_all']:.0f} (200: {d['gw200']:.0f}, 429: {d['gw429']:.0f}) vs client "
        f"{answered} (200: {ok})",
    )
    rep.check(
        "reconcile: sum emotion_api_requests_total{route=/predict} delta == client 200s",
        d["api200"] == ok and d["api_all"] == ok,
        f"APIs delta 200: {d['api200']:.0f}, all statuses: {d['api_all']:.0f}; client 200s: {ok}",
    )
    interval = scrape_interval(ctx)
    hc = (ctx.nginx.raw["Config"].get("Healthcheck") or {}).get("Interval", 0) / 1e9
    window = t_after - t_before
    slack = math.ceil(window / interval) + (math.ceil(window / hc) if hc else 0) + 2
    extra = d["ngx"] - answered
    rep.check(
        "reconcile: nginx_http_requests_total delta == client requests + stub_status reads",
        0 <= extra <= slack,
        f"nginx delta {d['ngx']:.0f} = client {answered} + {extra:.0f} other (allowed 0..{slack}: "
        f"{window:.0f}s window / {interval}s scrape interval + / {hc:.0f}s healthcheck interval + 2)",
    )
    # Prometheus: wait for two scrapes, then its latest samples must equal our direct read.
    time.sleep(2 * interval + 1)
    final = _counts(_read(prom, urls), api_names)

    # Only series scraped in the last two intervals: a persisted TSDB still returns the last samples of
    # targets from before a restart (no staleness marker is written when Prometheus itself stops).
    def fresh(sel):
        return f"sum({sel} and (timestamp({sel}) > time() - {2 * interval}))"

    pg = metrics.prom_scalar(fresh(f'{GW}{{route="/predict"}}'), ctx.prometheus)
    pa = metrics.prom_scalar(fresh(f'{API}{{route="/predict"}}'), ctx.prometheus)
    rep.check(
        "reconcile: Prometheus scraped the same gateway and API totals",
        pg == final["gw_all"] and pa == final["api_all"],
        f"prometheus gateway={pg} api={pa}; direct gateway={final['gw_all']:.0f} api={final['api_all']:.0f}",
    )
