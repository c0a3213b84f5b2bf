"""The gateway's access log (`gateway_json` on nginx's stdout) read back as records: what nginx saw.

nginx buffers the log for up to 1 s (nginx/conf/logging.conf), so a caller waits a little after its
last request before reading.
"""

import datetime
import json

from .stack import sh


def since(ctx, t0, addr=None):
    """(records, error-log lines) nginx logged from time `t0` on, for one client address if given.

    A log time has whole seconds: records of the second `t0` falls in are included, so a caller
    that must tell its requests from an earlier client's on the same address looks further (the
    User-Agent of loadgen.py names its load).
    """
    logs = sh(["docker", "logs", "--since", f"{t0 - 5:.0f}", ctx.nginx.id])
    out = []
    for ln in logs.stdout.splitlines():
        try:
            rec = json.loads(ln)
            at = datetime.datetime.fromisoformat(rec["time"]).timestamp()
        except (ValueError, KeyError, TypeError):
            continue
        if at >= int(t0) and (addr is None or rec.get("remote_addr") == addr):
            out.append(rec)
    return out, logs.stderr.splitlines()
