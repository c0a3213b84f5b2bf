"""HTTP(S) helpers for the e2e suite: python3 standard library only.

Every request opens its own connection (http.client), so a check sees exactly what
one client request gets, and never follows redirects on its own.
"""

from __future__ import annotations

import base64
import json
import socket
import ssl
import time
import urllib.parse
from dataclasses import dataclass, field
from http.client import HTTPConnection, HTTPSConnection

# The 13 labels of data/tweet_emotions.csv.
LABELS = frozenset(
    "anger boredom empty enthusiasm fun happiness hate love neutral relief sadness surprise worry".split()
)


@dataclass
class Response:
    """What one request got back."""

    status: int
    headers: dict[str, str]
    body: bytes
    elapsed: float = 0.0

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def short(self) -> str:
        text = self.body[:160].decode("utf-8", "replace").strip()
        return f"{self.status} {text!r}"


@dataclass
class Target:
    """Where the gateway is and how to trust and log in to it."""

    base_url: str
    cacert: str | None
    user: str | None
    password: str | None
    timeout: float = 10.0
    _ctx: ssl.SSLContext | None = field(default=None, repr=False)

    def tls_context(self) -> ssl.SSLContext:
        if self._ctx is None:
            ctx = ssl.create_default_context(cafile=self.cacert) if self.cacert else ssl.create_default_context()
            self._ctx = ctx
        return self._ctx

    def auth_header(self, user: str | None = None, password: str | None = None) -> str:
        user = self.user if user is None else user
        password = self.password if password is None else password
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        return f"Basic {token}"


def request(
    url: str,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    context: ssl.SSLContext | None = None,
    timeout: float = 10.0,
) -> Response:
    """One request on a fresh connection; raises OSError/ssl.SSLError on transport failure."""
    parts = urllib.parse.urlsplit(url)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    if parts.scheme == "https":
        conn = HTTPSConnection(parts.hostname, parts.port or 443, context=context, timeout=timeout)
    else:
        conn = HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout)
    start = time.monotonic()
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        hdrs = {k.lower(): v for k, v in resp.getheaders()}
        return Response(resp.status, hdrs, data, time.monotonic() - start)
    finally:
        conn.close()


def send(
    target: Target,
    path: str,
    method: str = "GET",
    *,
    body: bytes | None = None,
    auth: str | None | bool = None,
    headers: dict[str, str] | None = None,
    retry_429: bool = True,
) -> Response:
    """One request to the gateway at `path`.

    auth=True uses the target's credentials, a string is sent as the Authorization header,
    None/False sends none. With retry_429 a rate-limited request waits Retry-After and is
    retried (up to 10 times), so checks that are not about the rate limit are not disturbed
    by the requests of the checks before them: every route has a per-address budget, and a
    fast machine runs the checks before a check faster than that budget refills.
    """
    hdrs: dict[str, str] = {}
    if auth is True:
        hdrs["Authorization"] = target.auth_header()
    elif isinstance(auth, str):
        hdrs["Authorization"] = auth
    hdrs.update(headers or {})
    url = target.base_url.rstrip("/") + path
    for _ in range(10):
        resp = request(url, method, body, hdrs, target.tls_context(), target.timeout)
        if resp.status != 429 or not retry_429:
            return resp
        time.sleep(float(resp.header("Retry-After") or 1))
    return resp


def predict(
    target: Target,
    sentence: str = "I love sunny days at the beach",
    *,
    path: str = "/predict",
    auth: str | None | bool = True,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    retry_429: bool = True,
) -> Response:
    """POST a prediction (JSON `{"sentence": ...}` unless `body` is given) through the gateway;
    `auth` and `retry_429` as in `send`."""
    if body is None:
        body = json.dumps({"sentence": sentence}).encode()
    hdrs = {"Content-Type": "application/json", **(headers or {})}
    return send(target, path, "POST", body=body, auth=auth, headers=hdrs, retry_429=retry_429)


def is_json_error(resp: Response) -> bool:
    """True when the body is {"error": {"code": str, "message": str}}."""
    try:
        err = resp.json()["error"]
        return isinstance(err["code"], str) and isinstance(err["message"], str) and bool(err["code"])
    except (ValueError, KeyError, TypeError):
        return False


def tcp_reachable(host: str, port: int, timeout: float = 2.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def raw_exchange(host: str, port: int, payload: bytes, timeout: float = 5.0) -> bytes:
    """Sends raw bytes on a plain TCP connection and returns all that comes back."""
    out = b""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(payload)
        try:
            while chunk := sock.recv(65536):
                out += chunk
        except TimeoutError:
            pass
    return out
