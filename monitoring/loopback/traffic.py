#!/usr/bin/env python3
"""Traffic for monitoring/loopback/run.sh: predictions on both variants, batches, invalid input
(422) and a burst past the rate limit (429). Prints the status counts it got."""

import collections
import json
import sys
import time
import urllib.error
import urllib.request

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:27080"
TEXTS = [
    "I love this so much",
    "this is terrible and I hate it",
    "so bored today",
    "worried about tomorrow",
    "what a fun party",
    "I miss you",
    "happy birthday!!",
    "ugh work again",
]
seen = collections.Counter()


def post(path, body, debug):
    headers = {"content-type": "application/json"}
    if debug:
        headers["X-Experiment-Group"] = "debug"
    req = urllib.request.Request(BASE + path, data=json.dumps(body).encode(), method="POST", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            status = r.status
    except urllib.error.HTTPError as e:
        status = e.code
    seen[f"{'v2' if debug else 'v1'} {path} {status}"] += 1


for i in range(120):  # about 8 r/s: under the 10 r/s limit
    post("/predict", {"sentence": TEXTS[i % len(TEXTS)]}, debug=i % 3 == 0)
    if i % 10 == 0:
        post("/predict/batch", {"sentences": TEXTS[:4]}, debug=i % 20 == 0)
    time.sleep(0.12)
post("/predict", {"nope": 1}, debug=False)
post("/predict", {"nope": 1}, debug=True)
# Percent-encoded bytes that are not UTF-8: Nginx decodes $uri and escape=json passes bytes >= 0x80
# through raw, so the exporter must cope with a log line that is not valid UTF-8.
for path in ("/predict%FF", "/%C3%28/x"):
    post(path, {"sentence": "odd path"}, debug=False)
for i in range(40):  # past burst=20: the rest get 429
    post("/predict", {"sentence": "burst"}, debug=i % 2 == 0)
print("traffic:", json.dumps(dict(sorted(seen.items()))))
if len(sys.argv) > 2:  # the total, for run.sh's accounting check
    with open(sys.argv[2], "w") as out:
        out.write(str(sum(seen.values())))
