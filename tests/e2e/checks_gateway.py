"""The gateway checks: TLS, redirect, auth, A/B routing, load balancing, feedback, rate limit, errors.

CHECKS is a list of (name, fn); fn(ctx) returns a short description of what it saw, or
raises AssertionError with what it saw instead. ctx is run.Context. A check that cannot run
in this deployment (an optional hook was not given) raises Skip.
"""

from __future__ import annotations

import base64
import json
import math
import os
import random
import ssl
import subprocess
import threading
import time
import urllib.parse
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from client import LABELS, Response, is_json_error, predict, raw_exchange, request, send, tcp_reachable


class Skip(Exception):
    """The check does not apply to this run (reason in the message)."""


def _https_port(ctx) -> int:
    return urllib.parse.urlsplit(ctx.base_url).port or 443


def _pause_for_rate_limit(ctx) -> None:
    """Let the rate-limit bucket of this client refill before the next check."""
    time.sleep(ctx.rate_limit_pause)


# --- HTTP and TLS -------------------------------------------------------------------------------


def http_redirects_to_https(ctx):
    if not ctx.http_url:
        raise Skip("no --http-url")
    seen = []
    for path in ("/predict", "/some/path?q=1&x=%20y", "/"):
        resp = request(ctx.http_url.rstrip("/") + path, "GET", timeout=ctx.target.timeout)
        host = urllib.parse.urlsplit(ctx.base_url).hostname
        port = _https_port(ctx)
        expected = f"https://{host}{'' if port == 443 else f':{port}'}{path}"
        location = resp.header("Location")
        assert resp.status == 301, f"GET {path} over HTTP: {resp.status}, expected 301"
        assert location == expected, f"GET {path}: Location {location!r}, expected {expected!r}"
        seen.append(f"{path} -> {location}")
    # A POST with credentials is redirected too, never proxied over plain HTTP.
    resp = request(ctx.http_url.rstrip("/") + "/predict", "POST", b"{}", {"Authorization": ctx.target.auth_header()})
    assert resp.status == 301, f"POST /predict over HTTP: {resp.status}, expected 301"
    return "; ".join(seen)


def tls_verifies_with_generated_cert(ctx):
    versions = []
    for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        context = ssl.create_default_context(cafile=ctx.target.cacert)
        context.minimum_version = version
        context.maximum_version = version
        resp = request(ctx.base_url.rstrip("/") + "/health/live", context=context)
        assert resp.status == 200, f"/health/live over {version.name}: {resp.short()}"
        versions.append(version.name)
    return f"handshake verified against {ctx.target.cacert} with {', '.join(versions)}"


def tls_fails_without_cert(ctx):
    context = ssl.create_default_context()  # system trust store only
    try:
        resp = request(ctx.base_url.rstrip("/") + "/health/live", context=context)
    except ssl.SSLCertVerificationError as exc:
        return f"refused as expected: {exc.verify_message}"
    raise AssertionError(f"handshake succeeded without the generated CA: {resp.status}")


def tls_refuses_tls11(ctx):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
        context.minimum_version = ssl.TLSVersion.TLSv1_1
        context.maximum_version = ssl.TLSVersion.TLSv1_1
    except (ValueError, ssl.SSLError) as exc:
        raise Skip(f"this OpenSSL cannot offer TLS 1.1 ({exc})") from None
    try:
        resp = request(ctx.base_url.rstrip("/") + "/health/live", context=context)
    except (ssl.SSLError, OSError) as exc:
        return f"TLS 1.1 refused: {type(exc).__name__}: {exc}"
    raise AssertionError(f"TLS 1.1 handshake accepted: {resp.status}")


def security_headers(ctx):
    resp = predict(ctx.target)
    hsts = resp.header("Strict-Transport-Security") or ""
    server = resp.header("Server") or ""
    assert "max-age=" in hsts, f"no HSTS on a 200: {resp.headers}"
    assert server in ("nginx", ""), f"Server header shows a version: {server!r}"
    err = predict(ctx.target, auth=None)
    assert "max-age=" in (err.header("Strict-Transport-Security") or ""), f"no HSTS on a 401: {err.headers}"
    return f"HSTS {hsts!r}, Server {server!r}"


def landing_page(ctx):
    """`/` and its two assets: served without credentials, right types, a strict CSP (nginx/www).
    The page's behaviour in a browser is tests/browser's."""
    seen = []
    for path, ctype in (("/", "text/html"), ("/app.js", "text/javascript"), ("/style.css", "text/css")):
        resp = request(ctx.base_url.rstrip("/") + path, context=ctx.target.tls_context())
        assert resp.status == 200, f"GET {path}: {resp.short()}"
        assert resp.header("Content-Type") == f"{ctype}; charset=utf-8", f"GET {path}: {resp.header('Content-Type')!r}"
        csp = resp.header("Content-Security-Policy") or ""
        assert "default-src 'none'" in csp and "script-src 'self'" in csp, f"GET {path}: CSP {csp!r}"
        assert "max-age=" in (resp.header("Strict-Transport-Security") or ""), f"GET {path}: no HSTS"
        seen.append(f"{path}: 200 {ctype}")
    return "; ".join(seen) + "; CSP default-src 'none'"


# --- Auth and A/B ------------------------------------------------------------------------------


def predict_requires_auth(ctx):
    seen = []
    cases = [
        ("no credentials", None, {}),
        ("wrong password", ctx.target.auth_header(password="wrong-" + "x" * 8), {}),
        ("wrong user", ctx.target.auth_header(user="nobody-here"), {}),
        ("wrong password + debug", ctx.target.auth_header(password="wrong"), {"X-Experiment-Group": "debug"}),
        ("no credentials + debug", None, {"X-Experiment-Group": "debug"}),
    ]
    for label, auth, headers in cases:
        for path in ("/predict", "/predict/batch"):
            body = json.dumps({"sentences": ["hi"]}).encode() if path.endswith("batch") else None
            resp = predict(ctx.target, auth=auth, headers=headers, path=path, body=body)
            assert resp.status == 401, f"{label} on {path}: {resp.short()}"
            assert is_json_error(resp), f"{label} on {path}: 401 body is not a JSON error: {resp.short()}"
            assert (resp.header("WWW-Authenticate") or "").startswith("Basic"), f"{label}: no Basic challenge"
        seen.append(f"{label}: 401")
    resp = predict(ctx.target)
    assert resp.status == 200, f"right credentials: {resp.short()}"
    emotion = resp.json().get("emotion")
    assert emotion in LABELS, f"emotion {emotion!r} is not one of the 13 labels"
    seen.append(f"right credentials: 200 emotion={emotion}")
    return "; ".join(seen)


def ab_routing(ctx):
    seen = []
    # With the default weight (AB_V2_PERCENT=0) the split sends everyone to v1 and sets no cookie;
    # `control` forces v1 whatever the weight (the split itself: tests/resilience, ab-ramp).
    for value in (None, "Debug", "debug2", "", "DEBUG", "v2", "control"):
        headers = {} if value is None else {"X-Experiment-Group": value}
        resp = predict(ctx.target, headers=headers)
        assert resp.status == 200, f"header {value!r}: {resp.short()}"
        body = resp.json()
        variant = resp.header("X-Model-Variant")
        assert variant == "v1", f"header {value!r}: X-Model-Variant {variant!r}, expected v1"
        assert "probabilities" not in body, f"header {value!r}: v1 body has probabilities"
        assert body.get("emotion") in LABELS, f"header {value!r}: emotion {body.get('emotion')!r}"
        assert resp.header("Set-Cookie") is None, f"header {value!r}: Set-Cookie {resp.header('Set-Cookie')!r}"
        seen.append(f"{'none' if value is None else repr(value)}->v1")
    # A list (the header sent twice arrives joined by ", ") names no single group: refused.
    resp = predict(ctx.target, headers={"X-Experiment-Group": "debug,debug"})
    code = (resp.json() or {}).get("error", {}).get("code") if resp.status == 400 else None
    assert code == "invalid_experiment_group", f"header 'debug,debug': {resp.short()}"
    seen.append("'debug,debug'->400 invalid_experiment_group")
    resp = predict(ctx.target, headers={"X-Experiment-Group": "debug"})
    assert resp.status == 200, f"debug: {resp.short()}"
    body = resp.json()
    variant = resp.header("X-Model-Variant")
    assert variant == "v2", f"debug: X-Model-Variant {variant!r}, expected v2"
    probs = body.get("probabilities")
    assert isinstance(probs, dict) and set(probs) == LABELS, f"debug: probabilities {probs!r}"
    total = sum(probs.values())
    assert math.isclose(total, 1.0, abs_tol=1e-6), f"debug: probabilities sum to {total}"
    assert body.get("emotion") == max(probs, key=probs.get), "debug: emotion is not the most probable label"
    seen.append(f"'debug'->v2 (13 probabilities, sum {total:.6f})")
    return ", ".join(seen)


def load_balancing(ctx):
    instances = []
    for _ in range(3 * ctx.v1_replicas):
        resp = predict(ctx.target)
        assert resp.status == 200, f"{resp.short()}"
        assert resp.header("X-Model-Variant") == "v1", f"variant {resp.header('X-Model-Variant')}"
        instances.append(resp.header("X-Instance"))
    first = instances[: ctx.v1_replicas]
    distinct = Counter(instances)
    assert None not in distinct, f"a response had no X-Instance: {instances}"
    assert len(set(first)) == ctx.v1_replicas, f"first {ctx.v1_replicas} consecutive requests hit {first}"
    assert len(distinct) == ctx.v1_replicas, (
        f"{len(distinct)} distinct instances, expected {ctx.v1_replicas}: {dict(distinct)}"
    )
    return f"{len(instances)} requests over {len(distinct)} instances: {dict(distinct)}"


def _run_hook(cmd: str, what: str) -> str:
    proc = subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, f"{what} command failed ({proc.returncode}): {proc.stderr.strip()[-300:]}"
    return proc.stdout.strip()


def failover_skips_stopped_replica(ctx):
    if not (ctx.stop_replica_cmd and ctx.start_replica_cmd):
        raise Skip("no --stop-replica-cmd/--start-replica-cmd")
    _pause_for_rate_limit(ctx)
    _run_hook(ctx.stop_replica_cmd, "stop-replica")
    try:
        during = [predict(ctx.target) for _ in range(4 * ctx.v1_replicas)]
        codes = Counter(r.status for r in during)
        seen = Counter(r.header("X-Instance") for r in during)
        assert set(codes) == {200}, (
            f"with one replica stopped: {dict(codes)} {[r.short() for r in during if r.status != 200][:2]}"
        )
        assert len(seen) == ctx.v1_replicas - 1, f"with one replica stopped, served by {dict(seen)}"
    finally:
        _run_hook(ctx.start_replica_cmd, "start-replica")
    # The replica rejoins after fail_timeout, through live traffic (passive checks).
    deadline = time.monotonic() + ctx.rejoin_timeout
    back: Counter = Counter()
    while time.monotonic() < deadline:
        resp = predict(ctx.target)
        assert resp.status == 200, f"after restart: {resp.short()}"
        back[resp.header("X-Instance")] += 1
        if len(back) == ctx.v1_replicas:
            break
        time.sleep(0.25)
    assert len(back) == ctx.v1_replicas, f"stopped replica did not rejoin within {ctx.rejoin_timeout}s: {dict(back)}"
    return f"stopped: {sum(codes.values())} requests all 200 over {dict(seen)}; rejoined: {len(back)} instances"


# --- Feedback ------------------------------------------------------------------------------------


def _feedback(ctx, receipt, label, **kwargs) -> Response:
    body = json.dumps({"receipt": receipt, "label": label}).encode()
    return predict(ctx.target, path="/feedback", body=body, **kwargs)


def _code(resp: Response) -> str | None:
    return resp.json()["error"]["code"] if is_json_error(resp) else None


def feedback_counts_receipts_once_per_replica(ctx):
    """A /predict answer's receipt is accepted by POST /feedback once per replica; /feedback needs
    the credentials; a tampered receipt or an unknown label counts nothing (422)."""
    # `control` pins both to v1, whose replica count the replay check below relies on.
    v1 = {"X-Experiment-Group": "control"}
    resp = predict(ctx.target, "what a lovely day", headers=v1)
    assert resp.status == 200, f"/predict: {resp.short()}"
    prediction = resp.json()
    receipt = prediction.get("receipt")
    assert isinstance(receipt, str) and receipt.count(".") == 1, (
        f"the /predict answer has no receipt (EMOTION_FEEDBACK_KEY not set on the replicas?): {resp.short()}"
    )
    payload, tag = receipt.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    request_id = resp.header("X-Request-Id") or ""
    assert claims.get("request_id") == request_id and len(request_id) == 32, (
        f"receipt request_id {claims.get('request_id')!r}, X-Request-Id {request_id!r}"
    )
    seen = [f"receipt signs the gateway's request id {request_id[:8]}…"]

    for what, auth in (
        ("no credentials", None),
        ("wrong password", ctx.target.auth_header(password="wrong-" + "x" * 8)),
    ):
        r = _feedback(ctx, receipt, prediction["emotion"], auth=auth, headers=v1)
        assert r.status == 401 and is_json_error(r), f"{what}: {r.short()}"
        assert (r.header("WWW-Authenticate") or "").startswith("Basic"), f"{what}: no Basic challenge"
    seen.append("without credentials: 401")

    i = len(payload) // 2
    tampered = f"{payload[:i]}{'B' if payload[i] == 'A' else 'A'}{payload[i + 1 :]}.{tag}"
    for what, (rec, label), code in (
        ("tampered receipt", (tampered, prediction["emotion"]), "invalid_receipt"),
        ("forged tag", (f"{payload}.{'A' * 43}", prediction["emotion"]), "invalid_receipt"),
        ("unknown label", (receipt, "joy"), "invalid_label"),
    ):
        r = _feedback(ctx, rec, label, headers=v1)
        assert r.status == 422 and _code(r) == code, f"{what}: {r.short()}, expected 422 {code}"
    seen.append("tampered/forged receipt: 422 invalid_receipt; unknown label: 422 invalid_label")

    r = send(ctx.target, "/feedback", "GET", auth=True)
    assert r.status == 405 and (r.header("Allow") or "").upper() == "POST", (
        f"GET /feedback: {r.short()} Allow {r.header('Allow')!r}"
    )

    r = _feedback(ctx, receipt, prediction["emotion"], headers=v1)
    assert r.status == 200, f"the genuine receipt: {r.short()}"
    expected = {"counted": True, "correct": True, "variant": "v1", "model_version": prediction["model_version"]}
    assert r.json() == expected, f"the genuine receipt: {r.json()}, expected {expected}"
    # Replicas do not share what they counted: with N of them, N more tries reach some replica a
    # second time (409), and the receipt counts at most N times in all.
    replays = [_feedback(ctx, receipt, prediction["emotion"], headers=v1) for _ in range(ctx.v1_replicas)]
    statuses = Counter(x.status for x in replays)
    assert set(statuses) <= {200, 409}, f"replays: {[x.short() for x in replays]}"
    assert statuses[409] >= 1 and 1 + statuses[200] <= ctx.v1_replicas, (
        f"{ctx.v1_replicas} replays: {dict(statuses)}, expected a 409 and at most {ctx.v1_replicas} counts in all"
    )
    assert all(_code(x) == "feedback_already_counted" for x in replays if x.status == 409), (
        f"409 bodies: {[x.short() for x in replays if x.status == 409]}"
    )
    seen.append(
        f"genuine: 200 counted; {ctx.v1_replicas} replays: {dict(statuses)} "
        f"(counted {1 + statuses[200]}x over {ctx.v1_replicas} replicas)"
    )
    return "; ".join(seen)


# --- Rate limit ----------------------------------------------------------------------------------


def _burst(ctx, n, headers_fn=lambda i: {}):
    """n concurrent /predict requests (no retry); returns the responses.

    A transport failure becomes a Response with status 0 and the error as body, so that the
    checks report it instead of a thread dying silently.
    """

    def one(i):
        try:
            return predict(ctx.target, headers=headers_fn(i), retry_429=False)
        except (OSError, ssl.SSLError) as exc:
            return Response(0, {}, f"{type(exc).__name__}: {exc}".encode())

    with ThreadPoolExecutor(max_workers=ctx.burst_threads) as pool:
        return list(pool.map(one, range(n)))


def _errors(responses):
    return sorted({r.body.decode(errors="replace")[:100] for r in responses if r.status == 0})[:3]


def rate_limit_burst(ctx):
    _pause_for_rate_limit(ctx)
    responses = _burst(ctx, ctx.burst_size)
    codes = Counter(r.status for r in responses)
    limited = [r for r in responses if r.status == 429]
    assert not [c for c in codes if c >= 500 or c == 0], (
        f"5xx or transport errors in the burst: {dict(codes)} {_errors(responses)}"
    )
    assert limited, f"no 429 in a burst of {ctx.burst_size}: {dict(codes)}"
    assert codes[200] >= 1, f"nothing passed: {dict(codes)}"
    for r in limited:
        assert r.header("Retry-After"), f"429 without Retry-After: {r.headers}"
        assert is_json_error(r) and r.json()["error"]["code"] == "rate_limited", f"429 body: {r.short()}"
    _pause_for_rate_limit(ctx)
    after = [predict(ctx.target, retry_429=False).status for _ in range(5)]
    assert after == [200] * 5, f"after a {ctx.rate_limit_pause}s pause: {after}"
    return f"burst of {ctx.burst_size}: {dict(codes)}, Retry-After {limited[0].header('Retry-After')}; after pause: {after}"


def rate_limit_ignores_forged_xff(ctx):
    _pause_for_rate_limit(ctx)

    def forged(i):
        ip = f"203.0.113.{random.randint(1, 254)}"
        return {"X-Forwarded-For": ip, "X-Real-IP": ip, "Forwarded": f"for={ip}"}

    responses = _burst(ctx, ctx.burst_size, forged)
    codes = Counter(r.status for r in responses)
    assert codes[429] > 0, f"forged X-Forwarded-For dodged the limit: {dict(codes)}"
    assert not [c for c in codes if c >= 500 or c == 0], f"5xx or transport errors: {dict(codes)} {_errors(responses)}"
    _pause_for_rate_limit(ctx)
    return f"burst of {ctx.burst_size} with a random X-Forwarded-For each: {dict(codes)}"


def rate_limit_is_per_client(ctx):
    if not ctx.second_client_cmd:
        raise Skip("no --second-client-cmd")
    _pause_for_rate_limit(ctx)
    stop = threading.Event()
    first_codes: Counter = Counter()

    def hammer():
        while not stop.is_set():
            for r in _burst(ctx, ctx.burst_threads):
                first_codes[r.status] += 1

    thread = threading.Thread(target=hammer, daemon=True)
    thread.start()
    try:
        time.sleep(1.0)  # the first client is being limited now
        env = dict(os.environ, E2E_USER=ctx.target.user or "", E2E_PASSWORD=ctx.target.password or "")
        proc = subprocess.run(ctx.second_client_cmd, shell=True, capture_output=True, text=True, env=env, timeout=120)
        during = Counter(first_codes)
    finally:
        stop.set()
        thread.join(timeout=30)
    statuses = proc.stdout.split()
    assert proc.returncode == 0, f"second client command failed ({proc.returncode}): {proc.stderr.strip()[-300:]}"
    assert during[429] > 0, f"the first client was not limited while the second one ran: {dict(during)}"
    assert statuses and all(s == "200" for s in statuses), (
        f"second client got {statuses} while the first got {dict(during)}"
    )
    _pause_for_rate_limit(ctx)
    return f"first client {dict(first_codes)}; second client meanwhile: {statuses}"


# --- Bad input and unknown paths --------------------------------------------------------------------


def bad_input_gets_json_4xx(ctx):
    seen = []
    cases = [
        ("malformed JSON", "/predict", b'{"sentence": '),
        ("not JSON at all", "/predict", b"hello"),
        ("missing field", "/predict", b"{}"),
        ("wrong type", "/predict", b'{"sentence": 42}'),
        ("batch missing field", "/predict/batch", b'{"sentence": "x"}'),
        ("oversized body", "/predict", json.dumps({"sentence": "a" * 200_000}).encode()),
    ]
    for label, path, body in cases:
        resp = predict(ctx.target, path=path, body=body)
        assert 400 <= resp.status < 500, f"{label}: {resp.short()}"
        assert is_json_error(resp), f"{label}: not a JSON error: {resp.short()}"
        if label == "oversized body":
            assert resp.status == 413, f"{label}: {resp.status}, expected 413"
        seen.append(f"{label}: {resp.status} {resp.json()['error']['code']}")
    for path in ("/nope", "/predict/", "/admin/../etc/passwd", "/stub_status", "/metrics"):
        resp = send(ctx.target, path)
        assert resp.status == 404 and is_json_error(resp), f"GET {path}: {resp.short()}"
    seen.append("unknown paths (/nope, /stub_status, /metrics, ...): 404 JSON")
    resp = send(ctx.target, "/predict", "GET", auth=True)
    assert 400 <= resp.status < 500 and is_json_error(resp), f"GET /predict: {resp.short()}"
    seen.append(f"GET /predict: {resp.status}")
    # A 405 names exactly the methods of its route (RFC 9110 §15.5.6), whoever answers it.
    for method, path, allowed in (
        ("POST", "/health/live", {"GET", "HEAD"}),
        ("DELETE", "/openapi.json", {"GET", "HEAD"}),
        ("GET", "/predict", {"POST"}),
        ("PUT", "/predict/batch", {"POST"}),
    ):
        resp = send(ctx.target, path, method, auth=path.startswith("/predict"))
        got = {m.strip().upper() for m in (resp.header("Allow") or "").split(",") if m.strip()}
        assert resp.status == 405 and is_json_error(resp), f"{method} {path}: {resp.short()}"
        assert got == allowed, f"{method} {path}: Allow {resp.header('Allow')!r}, expected {sorted(allowed)}"
    seen.append("405s name their route's methods in Allow")
    return "; ".join(seen)


def _route(host: str) -> str | None:
    """`ip route get HOST` (Linux), or None when it cannot tell."""
    try:
        proc = subprocess.run(["ip", "route", "get", host], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else f"no route ({proc.stderr.strip()})"


def apis_unreachable_from_host(ctx):
    """The API addresses must not be reachable from this host.

    A TCP connection is only attempted when the address is on a directly connected network:
    an address routed through the default gateway is unreachable by construction, and probing
    it would send packets off this machine.
    """
    if not ctx.api_addrs:
        raise Skip("no --api-addr")
    reached, seen = [], []
    for addr in ctx.api_addrs:
        host, _, port = addr.rpartition(":")
        route = _route(host)
        if route is None:
            raise Skip("cannot read the routing table (no `ip` command)")
        if " via " in route.splitlines()[0] or route.startswith("no route"):
            seen.append(f"{addr}: no host route ({route.splitlines()[0]})")
            continue
        if tcp_reachable(host, int(port), timeout=2.0):
            reached.append(f"{addr} (route: {route.splitlines()[0]})")
        else:
            seen.append(f"{addr}: connection failed")
    assert not reached, f"reachable from this host: {reached}"
    return "; ".join(seen)


def malformed_requests_get_json_400(ctx):
    """Garbage on the wire (not HTTP, or plain HTTP on the TLS port) gets a JSON 400, never a 5xx."""
    parts = urllib.parse.urlsplit(ctx.base_url)
    cases = [
        ("TLS alert as first bytes on the HTTPS port", parts.hostname, parts.port or 443, b"\x15\x03\x01\x00\x02\x02P"),
        ("plain HTTP on the HTTPS port", parts.hostname, parts.port or 443, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
    ]
    if ctx.http_url:
        h = urllib.parse.urlsplit(ctx.http_url)
        cases.append(("garbage request line on the HTTP port", h.hostname, h.port or 80, b"GARBAGE\r\n\r\n"))
    seen = []
    for label, host, port, payload in cases:
        raw = raw_exchange(host, port, payload)
        head, _, body = raw.partition(b"\r\n\r\n")
        status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        assert status_line.startswith("HTTP/1.1 400"), f"{label}: {status_line!r}"
        try:
            code = json.loads(body)["error"]["code"]
        except (ValueError, KeyError, TypeError):
            raise AssertionError(f"{label}: body is not a JSON error: {body[:120]!r}") from None
        seen.append(f"{label}: 400 {code}")
    return "; ".join(seen)


CHECKS = [
    ("http_redirects_to_https", http_redirects_to_https),
    ("tls_verifies_with_generated_cert", tls_verifies_with_generated_cert),
    ("tls_fails_without_cert", tls_fails_without_cert),
    ("tls_refuses_tls11", tls_refuses_tls11),
    ("security_headers", security_headers),
    ("landing_page", landing_page),
    ("predict_requires_auth", predict_requires_auth),
    ("ab_routing", ab_routing),
    ("load_balancing", load_balancing),
    ("feedback_counts_receipts_once_per_replica", feedback_counts_receipts_once_per_replica),
    ("bad_input_gets_json_4xx", bad_input_gets_json_4xx),
    ("malformed_requests_get_json_400", malformed_requests_get_json_400),
    ("failover_skips_stopped_replica", failover_skips_stopped_replica),
    ("rate_limit_burst", rate_limit_burst),
    ("rate_limit_ignores_forged_xff", rate_limit_ignores_forged_xff),
    ("rate_limit_is_per_client", rate_limit_is_per_client),
    ("apis_unreachable_from_host", apis_unreachable_from_host),
]
