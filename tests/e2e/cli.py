"""The options every suite run against a deployment takes: where the gateway is, which certificate
to trust, the basic-auth credentials, and the size of a burst that must hit the rate limit
(tests/e2e/run.py and tests/browser/run.py).

Same flags and E2E_* environment variables for both, so one set of settings drives both suites.
"""

from __future__ import annotations

import argparse
import math
import os
import pathlib
import re

REPO = pathlib.Path(__file__).resolve().parents[2]


def add_target_arguments(p: argparse.ArgumentParser, cacert_help: str) -> None:
    """--base-url, --cacert, --user, --password, --credentials-file."""
    env = os.environ.get
    p.add_argument("--base-url", default=env("E2E_BASE_URL", "https://localhost"), help="HTTPS base URL [E2E_BASE_URL]")
    p.add_argument("--cacert", default=env("E2E_CACERT", "secrets/tls.crt"), help=cacert_help)
    p.add_argument("--user", default=env("E2E_USER"), help="basic-auth user [E2E_USER]")
    p.add_argument("--password", default=env("E2E_PASSWORD"), help="basic-auth password [E2E_PASSWORD]")
    p.add_argument(
        "--credentials-file",
        default=env("E2E_CREDENTIALS_FILE"),
        help="KEY=VALUE file with GATEWAY_USER/GATEWAY_PASSWORD, e.g. secrets/credentials.env",
    )


def render_defaults() -> dict[str, str]:
    """The gateway parameters' defaults, {NAME: value}, from the `: "${NAME:=value}"` lines of
    nginx/render-params.sh, the one place they are written (nix/render-defaults.nix reads the same
    lines for the NixOS module)."""
    text = (REPO / "nginx/render-params.sh").read_text()
    return dict(re.findall(r'^: "\$\{([A-Z][A-Z0-9_]*):?=([^}]*)\}"$', text, re.M))


def gateway_rate_limit() -> tuple[int, int]:
    """(requests/s, burst) of the gateway's per-address limit on /predict, found as compose finds
    them: the environment, then the repository's .env, then render_defaults()."""
    defaults = render_defaults()
    dotenv = REPO / ".env"
    configured = read_env_file(str(dotenv)) if dotenv.exists() else {}

    def value(name: str) -> int:
        return int(os.environ.get(name) or configured.get(name) or defaults[name])

    return value("RATE_LIMIT_RPS"), value("RATE_LIMIT_BURST")


def add_rate_limit_arguments(p: argparse.ArgumentParser, bursts: int, burst_env: str) -> None:
    """--burst (requests sent at once: `bursts` times what the limit lets through in its first
    second, so that some must be refused) and --rate-limit-pause (seconds until the bucket is full
    again), both derived from gateway_rate_limit() unless given."""
    rps, burst = gateway_rate_limit()
    env = os.environ.get
    p.add_argument(
        "--burst",
        type=int,
        default=int(env(burst_env) or bursts * (rps + burst)),
        help=f"requests in a rate-limit burst [{burst_env}; default {bursts} x (rate + burst) = {bursts * (rps + burst)}]",
    )
    p.add_argument(
        "--rate-limit-pause",
        type=float,
        default=float(env("E2E_RATE_LIMIT_PAUSE") or math.ceil(burst / rps) + 1),
        help="seconds for the client's rate-limit bucket to refill [E2E_RATE_LIMIT_PAUSE; default burst / rate + 1]",
    )


def read_env_file(path: str) -> dict[str, str]:
    values = {}
    for line in pathlib.Path(path).read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def credentials(args: argparse.Namespace) -> tuple[str, str] | None:
    """(user, password): the flags first, then the credentials file; None when either is missing."""
    user, password = args.user, args.password
    if args.credentials_file:
        creds = read_env_file(args.credentials_file)
        user = user or creds.get("GATEWAY_USER")
        password = password or creds.get("GATEWAY_PASSWORD")
    return (user, password) if user and password else None
