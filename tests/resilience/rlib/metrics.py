"""Read the stack's counters: straight from the exporters, and through Prometheus.

The exporters live on the backend network, which the host cannot reach; we read them from inside
the Prometheus container's network namespace (`nsenter -n`, host binaries), which reaches all of
them by design. A direct read is an exact value at one instant, so reconciliation needs no scrape
window; Prometheus is then checked to have scraped the same totals.
"""

import json
import re
import sys
import urllib.parse
import urllib.request

from .stack import sh

SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')

FETCH = (
    "import sys,urllib.request\n"
    "for u in sys.argv[1:]:\n"
    "    try:\n"
    "        b=urllib.request.urlopen(u,timeout=5).read().decode()\n"
    "    except Exception as e:\n"
    "        b='#ERROR '+repr(e)\n"
    "    sys.stdout.write('#URL '+u+'\\n'+b+'\\n')\n"
)


def parse(text):
    """Prometheus text format -> list of (name, {labels}, value)."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if not m:
            continue
        labels = dict(LABEL.findall(m.group(3) or ""))
        try:
            out.append((m.group(1), labels, float(m.group(4))))
        except ValueError:
            pass
    return out


def total(samples, name, **match):
    """Sum of `name` over series whose labels equal `match` (values may be callables)."""
    s = 0.0
    for n, labels, v in samples:
        if n != name:
            continue
        if all((want(labels.get(k, "")) if callable(want) else labels.get(k, "") == want) for k, want in match.items()):
            s += v
    return s


def scrape_from(pid, urls):
    """Fetch `urls` from inside the network namespace of process `pid`; {url: samples or None}."""
    out = sh(["nsenter", "-t", str(pid), "-n", sys.executable, "-c", FETCH, *urls], timeout=60).stdout
    result, cur, buf = {}, None, []
    for line in out.splitlines():
        if line.startswith("#URL "):
            if cur:
                result[cur] = buf
            cur, buf = line[5:], []
        else:
            buf.append(line)
    if cur:
        result[cur] = buf
    return {u: (None if b and b[0].startswith("#ERROR") else parse("\n".join(b))) for u, b in result.items()}


def prom_query(expr, base="http://127.0.0.1:9090"):
    """Instant query against Prometheus; list of (labels, value)."""
    url = f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    data = json.loads(urllib.request.urlopen(url, timeout=10).read())
    if data.get("status") != "success":
        raise RuntimeError(f"prometheus: {data}")
    return [(r["metric"], float(r["value"][1])) for r in data["data"]["result"]]


def prom_scalar(expr, base="http://127.0.0.1:9090"):
    res = prom_query(expr, base)
    return sum(v for _, v in res) if res else None
