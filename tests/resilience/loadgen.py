#!/usr/bin/env python3
"""Paced HTTPS load generator that accounts for every request it sends.

Run standalone (one client address per process): the suite starts one copy per client
container network namespace (`nsenter -n`), so that Nginx sees several client addresses.

Every request slot ends in exactly one outcome: an HTTP status or a named error, so
`sent == sum(status) + sum(errors)` always holds and can be reconciled with the gateway's and
the APIs' counters. The JSON summary on stdout (or --out) holds counts and a per-request event
list with absolute times, so a test can ask "which instance answered after t?".

Why paced and not closed-loop: the gateway rate-limits per client address; a paced client stays
inside its budget whatever the latency, and a burst of catch-up requests after a stall is bounded
(at most 0.2 s worth of slots), so a 429 means the limit really was crossed.
"""

import argparse
import base64
import http.client
import json
import os
import random
import socket
import ssl
import sys
import threading
import time

TEXTS = [
    "I am so happy today, everything went right",
    "this is the worst day ever, I hate waiting",
    "feeling a bit worried about the exam tomorrow",
    "what a surprise to see you here!",
    "I love my friends so much",
    "so bored at work, nothing to do",
    "I miss you, feeling sad tonight",
    "ugh my phone broke again",
]

# Errors on a reused keep-alive connection before any response byte: the server closed the idle
# connection while we were sending (a graceful Nginx reload does exactly this). Every mainstream
# client retries these once on a fresh connection; we do too, and count them separately.
# Over TLS the same race shows as an EOF without close_notify (Nginx's old workers close idle
# keep-alive connections on reload without a TLS shutdown).
STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, ssl.SSLEOFError, ssl.SSLZeroReturnError)


class TLSConnection(http.client.HTTPSConnection):
    """HTTPS to an IP address while sending a chosen SNI name (the gateway's certificate name)."""

    def __init__(self, ip, port, sni, context, timeout):
        super().__init__(ip, port, context=context, timeout=timeout)
        self._sni = sni
        self._ctx = context

    def connect(self):
        sock = socket.create_connection((self.host, self.port), self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = self._ctx.wrap_socket(sock, server_hostname=self._sni)


def find_key(obj, key):
    """First value of `key` anywhere in a decoded JSON document."""
    if isinstance(obj, dict):
        if key in obj:
            return obj[key]
        for v in obj.values():
            found = find_key(v, key)
            if found is not None:
                return found
    elif isinstance(obj, list):
        for v in obj:
            found = find_key(v, key)
            if found is not None:
                return found
    return None


class Load:
    """Shared pacing and accounting for the worker threads of one client."""

    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.t0 = time.time()
        self.t_end = self.t0 + args.duration
        self.next_slot = self.t0
        self.sent = 0
        self.status = {}
        self.errors = {}
        self.stale_retries = 0
        self.events = []
        self.ctx = ssl.create_default_context()
        if args.cafile:
            self.ctx.load_verify_locations(args.cafile)
            self.ctx.check_hostname = bool(args.sni)
        else:
            # Self-signed gateway certificate: TLS is exercised, identity is checked elsewhere.
            self.ctx.check_hostname = False
            self.ctx.verify_mode = ssl.CERT_NONE
        # The label in the User-Agent lets a test pick its own requests out of the access log:
        # the next client container can reuse an address while the last one's lines are logged.
        self.headers = {
            "Content-Type": "application/json",
            "Host": args.sni or args.host,
            "User-Agent": f"resilience-loadgen ({args.label})",
        }
        cred = os.environ.get(args.auth_env, "") if args.auth_env else ""
        if cred:
            self.headers["Authorization"] = "Basic " + base64.b64encode(cred.encode()).decode()
        for h in args.header:
            k, _, v = h.partition(":")
            self.headers[k.strip()] = v.strip()

    def take_slot(self):
        """Next send time, or None when the run is over."""
        with self.lock:
            now = time.time()
            slot = max(self.next_slot, now - 0.2)
            if slot >= self.t_end:
                return None
            self.next_slot = slot + 1.0 / self.args.rate
            self.sent += 1
            return slot

    def record(self, t, outcome, instance, version, variant, latency):
        with self.lock:
            if isinstance(outcome, int):
                self.status[str(outcome)] = self.status.get(str(outcome), 0) + 1
            else:
                self.errors[outcome] = self.errors.get(outcome, 0) + 1
            self.events.append([round(t, 3), outcome, instance, version, variant, round(latency * 1000, 1)])

    def connection(self):
        a = self.args
        return TLSConnection(a.host, a.port, a.sni or a.host, self.ctx, a.timeout)

    def worker(self):
        conn, used = None, 0
        while True:
            slot = self.take_slot()
            if slot is None:
                break
            delay = slot - time.time()
            if delay > 0:
                time.sleep(delay)
            if self.args.method == "POST":
                body = json.dumps({self.args.field: random.choice(TEXTS)}).encode()
            else:
                body = None
            start = time.time()
            outcome, instance, version, variant = None, None, None, None
            for attempt in (1, 2):
                if conn is None or not self.args.keepalive:
                    if conn is not None:
                        conn.close()
                    conn, used = self.connection(), 0
                try:
                    conn.request(self.args.method, self.args.path, body=body, headers=self.headers)
                    resp = conn.getresponse()
                    data = resp.read()
                    used += 1
                    outcome = resp.status
                    instance = resp.getheader("X-Instance")
                    variant = resp.getheader("X-Model-Variant")
                    try:
                        version = find_key(json.loads(data), "model_version")
                    except ValueError:
                        version = None
                    if resp.getheader("Connection", "").lower() == "close":
                        conn.close()
                        conn = None
                    break
                except STALE as e:
                    conn.close()
                    conn = None
                    if used > 0 and attempt == 1:
                        with self.lock:
                            self.stale_retries += 1
                        continue
                    outcome = type(e).__name__
                    break
                except (OSError, http.client.HTTPException) as e:
                    if conn is not None:
                        conn.close()
                    conn = None
                    outcome = type(e).__name__
                    break
            self.record(start, outcome, instance, version, variant, time.time() - start)
        if conn is not None:
            conn.close()

    def run(self):
        threads = [threading.Thread(target=self.worker, daemon=True) for _ in range(self.args.threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(self.args.duration + self.args.timeout * 3 + 10)
        with self.lock:
            self.events.sort(key=lambda e: e[0])
            return {
                "client": self.args.label,
                "t0": self.t0,
                "duration": self.args.duration,
                "rate": self.args.rate,
                "sent": self.sent,
                "status": self.status,
                "errors": self.errors,
                "stale_retries": self.stale_retries,
                "unfinished": self.sent - sum(self.status.values()) - sum(self.errors.values()),
                "events": self.events,
            }


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", required=True, help="gateway IP address")
    p.add_argument("--port", type=int, default=443)
    p.add_argument("--sni", default="localhost", help="TLS server name and Host header")
    p.add_argument("--cafile", default="")
    p.add_argument("--path", default="/predict")
    p.add_argument("--method", default="POST")
    p.add_argument("--field", default="sentence", help="JSON field of the text in the request body")
    p.add_argument("--rate", type=float, default=5.0, help="requests per second, paced")
    p.add_argument("--duration", type=float, default=10.0, help="seconds")
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--timeout", type=float, default=15.0)
    p.add_argument("--header", action="append", default=[], help="'Name: value'")
    p.add_argument("--auth-env", default="RESIL_BASIC_AUTH", help="env var holding user:password")
    p.add_argument("--no-keepalive", dest="keepalive", action="store_false")
    p.add_argument("--label", default=socket.gethostname())
    p.add_argument("--out", default="", help="write the JSON summary here instead of stdout")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    # Bounded by construction: duration and rate are capped, so a typo cannot flood anything.
    if args.duration > 600 or args.rate > 5000 or args.threads > 256:
        sys.exit("loadgen: duration <= 600 s, rate <= 5000/s, threads <= 256")
    summary = Load(args).run()
    text = json.dumps(summary)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    else:
        print(text)


if __name__ == "__main__":
    main()
