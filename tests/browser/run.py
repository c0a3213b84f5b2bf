#!/usr/bin/env python3
"""Real-browser test of the gateway's landing page (nginx/www, served at `/`).

Drives Debian's headless Chromium through chromedriver with Selenium, and checks the served OpenAPI
document with openapi-spec-validator (both pinned, installed from PyPI into build/browser/venv on
first use; the script re-runs itself there). Needs the Debian packages
`chromium` and `chromium-driver`, and `openssl` when a certificate is given.

Target and credentials as in tests/e2e/run.py, with the same environment variables:

    python3 tests/browser/run.py --base-url https://localhost --cacert secrets/tls.crt \
        --credentials-file secrets/credentials.env

Trust: Chromium is told to accept the certificate whose public key is that of --cacert
(--ignore-certificate-errors-spki-list with its SHA-256), which works when the gateway presents
that certificate itself (the self-signed one of `make certs`) or a chain that contains it; any
other certificate still fails. `--cacert ''` accepts every certificate instead
(--ignore-certificate-errors) and says so.

What it does: checks the page's headers (CSP, types) without a browser, then in the browser loads
`/`, fills in the credentials, classifies a sentence with the default group and with `debug`
(label, variant, instance; the 13 bars for v2), checks keyboard focus, the labels, the live
region, that the CSP is enforced and that the console stays clean, checks a 390x844 phone
viewport for horizontal overflow, provokes 401, 422, 413 and a network error (and a 503
not_ready simulated inside the page, since stopping replicas is not this test's business), and
last a burst above the rate limit for the 429 sentence, then waits for the limit to refill.
Then the API documentation at `/docs` (Swagger UI, served by the API through the gateway under a
Content-Security-Policy of its own): its headers without a browser, and in the browser that every
operation of the OpenAPI document is listed, that "Try it out" works on `GET /health/ready` and
that the console stays free of CSP violations.
Screenshots of each state go to build/browser/*.png. Prints PASS/FAIL per check and ends with
`N passed, N failed`; exit status 1 when anything failed.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import time
import traceback

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent.parent
BUILD = REPO / "build" / "browser"
VENV = BUILD / "venv"
# Pinned; selenium 4.51 and later need a certifi newer than the package index here offers.
# openapi-spec-validator carries the OpenAPI 3.1 meta-schema the served document is checked against.
PACKAGES = {"selenium": "4.50.0", "openapi-spec-validator": "0.9.0"}

sys.path.insert(0, str(REPO / "tests" / "e2e"))
from cli import add_rate_limit_arguments, add_target_arguments, credentials  # noqa: E402
from client import LABELS, request  # noqa: E402

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
# /docs (nginx/conf/api-docs.conf): the same, plus the hash of the one inline style Swagger UI needs.
DOCS_CSP = CSP.replace("style-src 'self';", "style-src 'self' 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w=';")
# Every operation of the OpenAPI document (crates/emotion-api/tests/api/openapi.rs has the same list).
OPERATIONS = {
    ("POST", "/predict"),
    ("POST", "/predict/batch"),
    ("POST", "/feedback"),
    ("GET", "/health/live"),
    ("GET", "/health/ready"),
    ("GET", "/openapi.json"),
}
PHONE = (390, 844)
DESKTOP = (1280, 900)


def _installed(python) -> dict:
    """{package: version} of PACKAGES as installed for `python` (empty where it cannot tell)."""
    code = (
        "import importlib.metadata as m, json, sys\n"
        "out = {}\n"
        "for name in sys.argv[1:]:\n"
        "    try: out[name] = m.version(name)\n"
        "    except m.PackageNotFoundError: pass\n"
        "print(json.dumps(out))"
    )
    run = subprocess.run([str(python), "-c", code, *PACKAGES], capture_output=True, text=True)
    return json.loads(run.stdout) if run.returncode == 0 else {}


def ensure_venv() -> None:
    """Re-runs this script in build/browser/venv, with PACKAGES installed there if they are missing."""
    python = VENV / "bin" / "python"
    if pathlib.Path(sys.prefix).resolve() == VENV.resolve():
        if _installed(sys.executable) != PACKAGES:
            sys.exit(f"error: {PACKAGES} are not all importable in {VENV}")
        return
    if not python.exists() or _installed(python) != PACKAGES:
        pins = [f"{name}=={version}" for name, version in PACKAGES.items()]
        print(f"note: installing {' '.join(pins)} into {VENV}", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", *pins], check=True, timeout=900)
    os.execv(str(python), [str(python), __file__, *sys.argv[1:]])


def parse_args(argv):
    env = os.environ.get
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_target_arguments(p, "certificate to trust [E2E_CACERT]; empty: accept any certificate")
    add_rate_limit_arguments(p, bursts=2, burst_env="BROWSER_BURST")
    p.add_argument("--chromium", default=env("CHROMIUM_BIN", "/usr/bin/chromium"))
    p.add_argument("--chromedriver", default=env("CHROMEDRIVER_BIN", "/usr/bin/chromedriver"))
    p.add_argument("--screenshots", default=str(BUILD), help="folder for the PNG screenshots")
    p.add_argument(
        "--headed",
        action="store_true",
        help="a visible browser window (needs a display, e.g. xvfb-run): shows that no login "
        "dialog holds up a 401, which headless Chromium could not show",
    )
    return p.parse_args(argv)


def spki_sha256(cert: str) -> str:
    """Base64 SHA-256 of the certificate's SubjectPublicKeyInfo, Chromium's pin format."""
    pem = subprocess.run(
        ["openssl", "x509", "-in", cert, "-noout", "-pubkey"], check=True, capture_output=True, text=True
    ).stdout
    der = base64.b64decode("".join(line for line in pem.splitlines() if "-----" not in line))
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


class Checks:
    """PASS/FAIL bookkeeping in the e2e suite's format."""

    def __init__(self):
        self.passed = self.failed = 0

    def run(self, name, fn):
        start = time.monotonic()
        try:
            seen = fn()
        except AssertionError as exc:
            self.failed += 1
            print(f"FAIL browser/{name} ({time.monotonic() - start:.1f}s): {exc}", flush=True)
            return
        except Exception as exc:  # a browser or transport error fails the check, with what was seen
            self.failed += 1
            print(f"FAIL browser/{name} ({time.monotonic() - start:.1f}s): {type(exc).__name__}: {exc}", flush=True)
            traceback.print_exc(limit=3, file=sys.stdout)
            return
        self.passed += 1
        print(f"PASS browser/{name} ({time.monotonic() - start:.1f}s): {seen or 'ok'}", flush=True)


def main(argv=None) -> int:
    args = parse_args(argv)
    creds = credentials(args)
    if creds is None:
        print("error: credentials required (--user/--password or --credentials-file)", file=sys.stderr)
        return 2
    user, password = creds
    for tool in (args.chromium, args.chromedriver):
        if not os.access(tool, os.X_OK):
            print(f"error: {tool} not found (apt-get install chromium chromium-driver)", file=sys.stderr)
            return 2
    ensure_venv()

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    base = args.base_url.rstrip("/")
    shots = pathlib.Path(args.screenshots)
    shots.mkdir(parents=True, exist_ok=True)
    import ssl

    if args.cacert:
        tls = ssl.create_default_context(cafile=args.cacert)
        trust = f"--ignore-certificate-errors-spki-list={spki_sha256(args.cacert)}"
        trust_note = f"the public key of {args.cacert}"
    else:
        tls = ssl._create_unverified_context()  # the caller asked for no verification
        trust = "--ignore-certificate-errors"
        trust_note = "ANY certificate (--ignore-certificate-errors: no --cacert given)"

    options = webdriver.ChromeOptions()
    options.binary_location = args.chromium
    flags = [
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
        f"--window-size={DESKTOP[0]},{DESKTOP[1]}",
        trust,
    ]
    for flag in flags if args.headed else ["--headless=new", *flags]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # Selenium Manager must not look for drivers or browsers online: both paths are given.
    os.environ["SE_OFFLINE"] = "true"
    profile = tempfile.mkdtemp(prefix="browser-test-")
    options.add_argument(f"--user-data-dir={profile}")

    checks = Checks()
    print(f"browser test against {base} (Chromium trusts {trust_note}; screenshots in {shots})", flush=True)

    # --- Headers, without a browser ------------------------------------------------------------

    def page_headers():
        seen = []
        for path, ctype in (
            ("/", "text/html; charset=utf-8"),
            ("/app.js", "text/javascript; charset=utf-8"),
            ("/style.css", "text/css; charset=utf-8"),
        ):
            resp = request(base + path, context=tls)
            assert resp.status == 200, f"GET {path}: {resp.short()}"
            assert resp.header("Content-Type") == ctype, f"GET {path}: Content-Type {resp.header('Content-Type')!r}"
            assert resp.header("Content-Security-Policy") == CSP, (
                f"GET {path}: CSP {resp.header('Content-Security-Policy')!r}"
            )
            assert resp.header("X-Content-Type-Options") == "nosniff", f"GET {path}: no nosniff"
            assert "max-age=" in (resp.header("Strict-Transport-Security") or ""), f"GET {path}: no HSTS"
            assert resp.header("WWW-Authenticate") is None, f"GET {path} asks for credentials"
            seen.append(f"{path}: 200 {ctype}")
        for path in ("/index.html", "/www/index.html", "/app.js/", "/nope"):
            resp = request(base + path, context=tls)
            assert resp.status == 404 and resp.json()["error"]["code"] == "not_found", f"GET {path}: {resp.short()}"
        seen.append("CSP and security headers on all three; /index.html, /www/index.html: JSON 404")
        resp = request(base + "/", "POST", b"x", {"Content-Type": "text/plain"}, context=tls)
        assert resp.status == 405 and resp.json()["error"]["code"] == "method_not_allowed", f"POST /: {resp.short()}"
        seen.append("POST /: 405")
        return "; ".join(seen)

    checks.run("page_headers", page_headers)

    def docs_headers():
        seen = []
        for path, ctype in (
            ("/docs", "text/html"),
            ("/docs/", "text/html"),
            ("/docs/swagger-ui-bundle.js", "javascript"),
            ("/docs/swagger-ui.css", "text/css"),
        ):
            resp = request(base + path, context=tls)
            assert resp.status == 200, f"GET {path}: {resp.short()}"
            assert ctype in (resp.header("Content-Type") or ""), (
                f"GET {path}: Content-Type {resp.header('Content-Type')!r}"
            )
            assert resp.header("Content-Security-Policy") == DOCS_CSP, (
                f"GET {path}: CSP {resp.header('Content-Security-Policy')!r}"
            )
            assert resp.header("X-Content-Type-Options") == "nosniff", f"GET {path}: no nosniff"
            assert "max-age=" in (resp.header("Strict-Transport-Security") or ""), f"GET {path}: no HSTS"
            assert resp.header("WWW-Authenticate") is None, f"GET {path} asks for credentials"
            seen.append(f"{path}: 200")
        resp = request(base + "/docs/nope.js", context=tls)
        assert resp.status == 404 and resp.json()["error"]["code"] == "not_found", f"GET /docs/nope.js: {resp.short()}"
        resp = request(base + "/docs", "POST", b"x", {"Content-Type": "text/plain"}, context=tls)
        assert resp.status == 405 and resp.json()["error"]["code"] == "method_not_allowed", (
            f"POST /docs: {resp.short()}"
        )
        assert resp.header("Allow") == "GET, HEAD", f"POST /docs: Allow {resp.header('Allow')!r}"
        seen.append("the docs CSP, nosniff, HSTS, no credentials asked; /docs/nope.js: JSON 404; POST /docs: 405")
        return "; ".join(seen)

    checks.run("docs_headers", docs_headers)

    def openapi_document_valid():
        from openapi_spec_validator import validate

        resp = request(base + "/openapi.json", context=tls)
        assert resp.status == 200, f"GET /openapi.json: {resp.short()}"
        doc = resp.json()
        assert str(doc.get("openapi", "")).startswith("3.1."), f"openapi {doc.get('openapi')!r}, want 3.1.x"
        validate(doc)  # raises with the offending path when the document breaks the meta-schema
        verbs = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
        ops = {(m.upper(), path) for path, item in doc["paths"].items() for m in item if m in verbs}
        assert ops == OPERATIONS, f"operations {sorted(ops)}, want {sorted(OPERATIONS)}"
        return f"OpenAPI {doc['openapi']} valid against the 3.1 meta-schema, {len(ops)} operations"

    checks.run("openapi_document_valid", openapi_document_valid)

    try:
        driver = webdriver.Chrome(service=Service(executable_path=args.chromedriver), options=options)
    except Exception as exc:
        print(f"FAIL browser/start: {type(exc).__name__}: {exc}")
        print(f"{checks.passed} passed, {checks.failed + 1} failed")
        return 1
    driver.set_page_load_timeout(30)
    js = driver.execute_script
    by_id = lambda i: driver.find_element(By.ID, i)  # noqa: E731

    def screenshot(name: str) -> str:
        """The whole page, not only the viewport."""
        size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
        shot = driver.execute_cdp_cmd(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
            },
        )
        path = shots / f"{name}.png"
        path.write_bytes(base64.b64decode(shot["data"]))
        return str(path.relative_to(REPO) if path.is_relative_to(REPO) else path)

    def submit_and_wait(timeout: float = 20.0) -> tuple[str, str]:
        js("const m = document.getElementById('message'); m.textContent = ''; m.className = 'message';")
        by_id("submit").click()
        WebDriverWait(driver, timeout).until(
            lambda d: by_id("message").get_attribute("class") in ("message ok", "message error")
        )
        return by_id("message").get_attribute("class").split()[-1], by_id("message").text

    def set_value(element_id: str, value: str) -> None:
        el = by_id(element_id)
        el.clear()
        if len(value) > 200:  # typing 70,000 characters would take minutes
            js("arguments[0].value = arguments[1];", el, value)
        else:
            el.send_keys(value)

    def choose_group(value: str) -> None:
        driver.find_element(By.CSS_SELECTOR, f"input[name='group'][value='{value}']").click()

    def console() -> list[dict]:
        return driver.get_log("browser")

    def overflow() -> dict:
        return js("""
            const root = document.documentElement, width = root.clientWidth;
            const wide = [...document.querySelectorAll('body *')].filter(e => {
                const r = e.getBoundingClientRect();
                return r.width > 0 && (r.right > width + 0.5 || r.left < -0.5);
            }).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : ''));
            return {scrollWidth: root.scrollWidth, clientWidth: width, innerWidth: window.innerWidth, wide: wide.slice(0, 5)};
        """)

    try:
        # --- Desktop ---------------------------------------------------------------------------

        def page_loads():
            driver.get(base + "/")
            WebDriverWait(driver, 10).until(lambda d: js("return document.readyState") == "complete")
            assert driver.title == "Emotion classifier", f"title {driver.title!r}"
            unlabelled = js("""return [...document.querySelectorAll('input, textarea, select')]
                .filter(e => !(e.labels && e.labels.length)).map(e => e.id || e.name);""")
            assert not unlabelled, f"form controls without a label: {unlabelled}"
            msg = by_id("message")
            assert msg.get_attribute("aria-live") == "polite" and msg.get_attribute("role") == "status", (
                "the message is not a polite live region"
            )
            links = js("return [...document.querySelectorAll('footer a')].map(a => a.href);")
            assert links[1:] == ["http://localhost:3000/", "http://localhost:9090/"], f"footer links {links}"
            # The API documentation (Swagger UI, checked at the end) must answer.
            api_doc = links[0][len(base) :]
            assert api_doc == "/docs", f"API documentation link {links[0]}"
            assert request(base + api_doc, context=tls).status == 200, f"{api_doc} does not answer 200"
            assert "host running the stack" in driver.find_element(By.TAG_NAME, "footer").text
            stored = js("return [localStorage.length, sessionStorage.length, document.cookie];")
            return (
                f"title, labels, live region, links {links} ({api_doc} answers); "
                f"{screenshot('01-page')}; storage before use: {stored}"
            )

        checks.run("page_loads", page_loads)

        def missing_credentials():
            set_value("sentence", "I love this")
            kind, text = submit_and_wait()
            assert kind == "error" and "username and password first" in text, f"{kind}: {text!r}"
            return f"no request sent: {text!r}"

        checks.run("missing_credentials_sentence", missing_credentials)

        def default_group():
            set_value("user", user)
            set_value("password", password)
            set_value("sentence", "I love this so much, what a wonderful day")
            choose_group("")
            kind, text = submit_and_wait()
            assert kind == "ok", f"{kind}: {text!r}"
            emotion, variant, instance = by_id("emotion").text, by_id("variant").text, by_id("instance").text
            assert emotion in LABELS, f"emotion {emotion!r}"
            assert variant in ("v1", "v2"), f"variant {variant!r}"
            assert instance and instance != "unknown", f"instance {instance!r}"
            assert f"variant {variant}" in text and emotion in text, f"message {text!r}"
            bars = driver.find_elements(By.CSS_SELECTOR, "#bars li")
            if variant == "v1":
                assert by_id("no-probabilities").is_displayed(), "v1 answer without the note on probabilities"
                assert not by_id("chart").is_displayed(), "v1 answer shows a chart"
            else:  # an A/B split may send the default group to v2 (AB_V2_PERCENT)
                assert len(bars) == 13, f"v2 answer with {len(bars)} bars"
            return f"{text!r}; {screenshot('02-default')}"

        checks.run("default_group_shows_label_and_variant", default_group)

        def debug_group():
            choose_group("debug")
            set_value("sentence", "I am so worried about the exam tomorrow")
            kind, text = submit_and_wait()
            assert kind == "ok", f"{kind}: {text!r}"
            assert by_id("variant").text == "v2", f"variant {by_id('variant').text!r}"
            instance = by_id("instance").text
            assert instance and instance != "unknown", f"instance {instance!r}"
            rows = js("""return [...document.querySelectorAll('#bars li')].map(li => [
                li.querySelector('.bar-label').textContent, li.querySelector('.bar-value').textContent,
                li.querySelector('.bar-fill').getBoundingClientRect().width,
                li.querySelector('.bar-track').getBoundingClientRect().width]);""")
            assert len(rows) == 13, f"{len(rows)} bars"
            assert {r[0] for r in rows} == LABELS, f"bar labels {[r[0] for r in rows]}"
            values = [float(r[1].replace("%", "").strip()) for r in rows]
            assert values == sorted(values, reverse=True), f"bars not sorted: {values}"
            assert abs(sum(values) - 100) < 1.5, f"probabilities add up to {sum(values)}"
            top = rows[0]
            assert top[0] == by_id("emotion").text, f"top bar {top[0]} is not the label {by_id('emotion').text}"
            # The widths come from a CSSOM style set by app.js: if the CSP blocked it, all would be 0.
            assert abs(top[2] / top[3] - values[0] / 100) < 0.03, f"top bar width {top[2]:.0f}/{top[3]:.0f} px"
            assert by_id("tokens-row").is_displayed() and by_id("timing-row").is_displayed(), "no tokens or timing"
            assert not by_id("no-probabilities").is_displayed(), "v2 answer with the v1 note"
            return f"{text!r}; top {top[0]} {top[1]}; tokens {by_id('tokens').text!r}; {screenshot('03-debug')}"

        checks.run("debug_group_shows_13_bars", debug_group)

        def console_clean():
            entries = console()
            bad = [e for e in entries if e.get("level") in ("SEVERE", "WARNING")]
            assert not bad, f"console: {bad}"
            return f"{len(entries)} console entries, none a warning or an error"

        checks.run("console_clean_after_predictions", console_clean)

        def credentials_not_stored():
            got = js(
                """return {local: localStorage.length, session: sessionStorage.length,
                cookie: document.cookie.includes(arguments[0]) || document.cookie.includes(arguments[1])};""",
                password,
                base64.b64encode(f"{user}:{password}".encode()).decode(),
            )
            assert got == {"local": 0, "session": 0, "cookie": False}, f"stored: {got}"
            return "localStorage and sessionStorage empty, no cookie holds them, after two predictions"

        checks.run("credentials_not_stored", credentials_not_stored)

        def focus_visible():
            by_id("sentence").click()
            # Keyboard: from the sentence, Tab reaches the group radios, then the button.
            from selenium.webdriver.common.action_chains import ActionChains

            ActionChains(driver).send_keys(Keys.TAB).send_keys(Keys.TAB).perform()
            active = js("return document.activeElement.id;")
            style = js("""const s = getComputedStyle(document.activeElement);
                return [s.outlineStyle, s.outlineWidth, document.activeElement.matches(':focus-visible')];""")
            assert active == "submit", f"Tab reached {active!r}, not the button"
            assert style[0] != "none" and style[2], f"focused button outline {style}"
            return f"Tab to the button: outline {style[0]} {style[1]}; {screenshot('04-focus')}"

        checks.run("keyboard_focus_visible", focus_visible)

        def csp_enforced():
            got = driver.execute_async_script("""
                const done = arguments[arguments.length - 1], seen = [];
                document.addEventListener('securitypolicyviolation', e => seen.push(e.effectiveDirective));
                const s = document.createElement('script');
                s.textContent = 'window.injected = true;';
                document.body.appendChild(s);
                const st = document.createElement('style');
                st.textContent = 'body { display: none }';
                document.head.appendChild(st);
                setTimeout(() => done({seen, ran: window.injected === true,
                    hidden: getComputedStyle(document.body).display === 'none'}), 300);
            """)
            assert not got["ran"] and not got["hidden"], f"inline code took effect: {got}"
            assert "script-src-elem" in got["seen"] and "style-src-elem" in got["seen"], f"violations {got['seen']}"
            entries = console()
            unexpected = [e for e in entries if "Content Security Policy" not in e.get("message", "")]
            assert not unexpected, f"console: {unexpected}"
            return f"injected inline script and style refused ({got['seen']})"

        checks.run("csp_enforced_in_browser", csp_enforced)

        # --- Phone ------------------------------------------------------------------------------

        def phone_layout():
            driver.execute_cdp_cmd(
                "Emulation.setDeviceMetricsOverride",
                {"width": PHONE[0], "height": PHONE[1], "deviceScaleFactor": 2, "mobile": True},
            )
            time.sleep(0.3)
            seen = overflow()
            assert seen["innerWidth"] == PHONE[0], f"viewport {seen}"
            assert seen["scrollWidth"] <= seen["clientWidth"] and not seen["wide"], f"horizontal overflow: {seen}"
            shot = screenshot("05-phone-debug")
            driver.execute_cdp_cmd(
                "Emulation.setDeviceMetricsOverride",
                {"width": PHONE[0], "height": PHONE[1], "deviceScaleFactor": 1, "mobile": True},
            )
            return (
                f"{PHONE[0]}x{PHONE[1]}: scrollWidth {seen['scrollWidth']} = clientWidth {seen['clientWidth']}; {shot}"
            )

        checks.run("phone_viewport_no_horizontal_scroll", phone_layout)

        def wrong_password():
            set_value("password", "wrong-" + password[:3] + "x")
            set_value("sentence", "I love this")
            start = time.monotonic()
            # With fetch's default credentials mode Chromium holds a 401 for its login dialog, and
            # this would time out (headless too); the page uses credentials: 'omit' (app.js).
            kind, text = submit_and_wait(timeout=10)
            took = time.monotonic() - start
            assert kind == "error" and "did not accept this username and password" in text, f"{kind}: {text!r}"
            assert not by_id("result").is_displayed(), "the previous result is still shown"
            seen = overflow()
            assert not seen["wide"], f"horizontal overflow: {seen}"
            set_value("password", password)
            return f"{text!r} after {took:.1f}s (no login dialog held it); {screenshot('06-phone-401')}"

        checks.run("wrong_password_sentence", wrong_password)

        def empty_sentence():
            set_value("sentence", "   ")
            kind, text = submit_and_wait()
            assert kind == "error" and "sentence is empty" in text, f"{kind}: {text!r}"
            return f"{text!r}; {screenshot('07-phone-422')}"

        checks.run("empty_sentence_422_sentence", empty_sentence)

        def too_long():
            set_value("sentence", "a" * 6000)
            kind, text = submit_and_wait()
            assert kind == "error" and "too long" in text and "6000 characters" in text, f"{kind}: {text!r}"
            seen = [text]
            set_value("sentence", "a" * 70_000)
            kind, text = submit_and_wait()
            assert kind == "error" and "too large for the gateway" in text, f"{kind}: {text!r}"
            seen.append(text)
            set_value("sentence", "I love this")
            return f"{seen!r}; {screenshot('08-phone-413')}"

        checks.run("too_long_422_and_413_sentences", too_long)

        def not_ready():
            # Simulated inside the page (no replica is stopped): fetch answers what nginx sends when
            # no v2 replica can answer.
            js("""window.realFetch = window.fetch;
                window.fetch = () => Promise.resolve(new Response(
                    '{"error":{"code":"not_ready","message":"no v2 replica can answer right now; retry later"}}',
                    {status: 503, headers: {'Content-Type': 'application/json', 'Retry-After': '5'}}));""")
            try:
                choose_group("debug")
                kind, text = submit_and_wait()
            finally:
                js("window.fetch = window.realFetch;")
            assert kind == "error" and "No replica of variant v2 (debug)" in text and "5 seconds" in text, (
                f"{kind}: {text!r}"
            )
            return f"(simulated 503) {text!r}; {screenshot('09-phone-503')}"

        checks.run("not_ready_503_sentence", not_ready)

        def network_error():
            driver.execute_cdp_cmd("Network.enable", {})
            driver.execute_cdp_cmd(
                "Network.emulateNetworkConditions",
                {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
            )
            try:
                kind, text = submit_and_wait()
            finally:
                driver.execute_cdp_cmd(
                    "Network.emulateNetworkConditions",
                    {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
                )
            assert kind == "error" and "could not be reached" in text, f"{kind}: {text!r}"
            return f"(browser offline) {text!r}; {screenshot('10-phone-network')}"

        checks.run("network_error_sentence", network_error)

        def console_only_expected():
            entries = console()
            expected = re.compile(
                r"/predict - Failed to load resource: (the server responded with a status of "
                r"(401|413|422)|net::ERR_INTERNET_DISCONNECTED)"
            )
            bad = [e for e in entries if e.get("level") in ("SEVERE", "WARNING") and not expected.search(e["message"])]
            assert not bad, f"console: {bad}"
            return f"{len(entries)} console entries, all the provoked /predict failures"

        checks.run("console_only_provoked_errors", console_only_expected)

        # --- Last: the rate limit (the address stays limited for a moment afterwards) -----------

        def rate_limited():
            choose_group("")
            auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
            for attempt in (1, 2):  # noqa: B007 (reported after the loop)
                js("const m = document.getElementById('message'); m.textContent = ''; m.className = 'message';")
                statuses = driver.execute_async_script(
                    """
                    const [auth, n, done] = arguments;
                    const sent = [];
                    for (let i = 0; i < n; i++) {
                        sent.push(fetch('/predict', {method: 'POST', credentials: 'omit',
                            headers: {'Content-Type': 'application/json', 'Authorization': auth},
                            body: JSON.stringify({sentence: 'burst ' + i})}).then(r => r.status, () => 0));
                    }
                    document.getElementById('predict-form').requestSubmit();  // queued behind the burst
                    Promise.all(sent).then(done);
                """,
                    auth,
                    args.burst,
                )
                WebDriverWait(driver, 20).until(
                    lambda d: by_id("message").get_attribute("class") in ("message ok", "message error")
                )
                text = by_id("message").text
                if "Too many requests" in text:
                    break
                time.sleep(args.rate_limit_pause)
            counts = {s: statuses.count(s) for s in sorted(set(statuses))}
            assert 429 in counts, f"no 429 in a burst of {args.burst}: {counts}"
            assert "Too many requests" in text and "Try again in 1 second." in text, f"page says {text!r}"
            shot = screenshot("11-phone-429")
            console()  # the burst's 429s are logged by the browser, as expected
            time.sleep(args.rate_limit_pause)
            return (
                f"burst of {args.burst}: {counts} (attempt {attempt}); page: {text!r}; {shot}; "
                f"waited {args.rate_limit_pause:.0f}s for the limit to refill"
            )

        checks.run("rate_limit_429_sentence", rate_limited)

        # --- The API documentation (Swagger UI) -------------------------------------------------

        def docs_lists_operations():
            driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
            console()  # what the landing page logged is checked above
            driver.get(base + "/docs")
            WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".opblock"))
            assert driver.title == "emotion-api: API documentation", f"title {driver.title!r}"
            blocks = driver.find_elements(By.CSS_SELECTOR, ".opblock")
            listed = {
                (
                    b.find_element(By.CSS_SELECTOR, ".opblock-summary-method").text,
                    b.find_element(By.CSS_SELECTOR, ".opblock-summary-path").text,
                )
                for b in blocks
            }
            assert listed == OPERATIONS, f"operations listed: {sorted(listed)}"
            title = driver.find_element(By.CSS_SELECTOR, ".info .title").text
            assert title.startswith("emotion-api"), f"document title {title!r}"
            # "Try it out" on the readiness probe: fetch() to this origin under the CSP.
            ready = next(
                b for b in blocks if b.find_element(By.CSS_SELECTOR, ".opblock-summary-path").text == "/health/ready"
            )
            ready.find_element(By.CSS_SELECTOR, ".opblock-summary").click()
            WebDriverWait(driver, 10).until(lambda d: ready.find_elements(By.CSS_SELECTOR, ".try-out__btn"))
            ready.find_element(By.CSS_SELECTOR, ".try-out__btn").click()
            WebDriverWait(driver, 10).until(lambda d: ready.find_elements(By.CSS_SELECTOR, ".execute"))
            ready.find_element(By.CSS_SELECTOR, ".execute").click()
            cell = ".live-responses-table .response .response-col_status"
            WebDriverWait(driver, 10).until(lambda d: ready.find_elements(By.CSS_SELECTOR, cell))
            status = ready.find_element(By.CSS_SELECTOR, cell).text
            assert status == "200", f"Try it out on GET /health/ready: {status!r}"
            entries = console()
            bad = [e for e in entries if e.get("level") in ("SEVERE", "WARNING")]
            assert not bad, f"console: {bad}"
            return (
                f"{len(listed)} operations listed, /predict among them; Try it out on /health/ready: 200; "
                f"console clean ({len(entries)} entries); {screenshot('12-docs')}"
            )

        checks.run("docs_lists_operations", docs_lists_operations)
    finally:
        driver.quit()

    print(f"{checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
