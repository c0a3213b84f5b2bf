"""The options every suite run against a deployment takes: where the gateway is, which certificate
to trust, and the basic-auth credentials (tests/e2e/run.py and tests/browser/run.py).

Same flags and E2E_* environment variables for both, so one set of settings drives both suites.
"""

from __future__ import annotations

import argparse
import os
import pathlib


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
