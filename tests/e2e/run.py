#!/usr/bin/env python3
"""The end-to-end check suite, runnable against any deployment of the gateway.

python3 standard library only. Give it the gateway's base URL, the CA certificate and the
credentials (arguments or environment variables); optional hooks add checks that need to know
the deployment (a second client address, the API addresses, Prometheus).

    python3 tests/e2e/run.py --base-url https://localhost --http-url http://localhost \
        --cacert secrets/tls.crt --credentials-file secrets/credentials.env

Each check prints PASS, FAIL or SKIP with what it saw; the last line is exactly
`N passed, N failed` (plus `, N skipped` when some were skipped), and the exit status is 1
when anything failed. The gateway checks are in checks_gateway.py; the monitoring checks in
checks_monitoring.py (its CHECKS list) run after them when the file is there and
--prometheus-url is given.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pathlib
import sys
import time
import traceback
from dataclasses import dataclass, field

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from checks_gateway import CHECKS as GATEWAY_CHECKS  # noqa: E402
from checks_gateway import Skip  # noqa: E402
from cli import add_rate_limit_arguments, add_target_arguments, credentials  # noqa: E402
from client import Target  # noqa: E402


@dataclass
class Context:
    """Everything a check may use. Monitoring checks rely on prometheus_url and repo_root."""

    target: Target
    base_url: str
    http_url: str | None
    prometheus_url: str | None
    repo_root: pathlib.Path
    second_client_cmd: str | None = None
    api_addrs: list[str] = field(default_factory=list)
    stop_replica_cmd: str | None = None
    start_replica_cmd: str | None = None
    rejoin_timeout: float = 60.0
    v1_replicas: int = 3
    burst_size: int = 60
    burst_threads: int = 12
    rate_limit_pause: float = 3.0


def parse_args(argv):
    env = os.environ.get
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_target_arguments(p, "CA/certificate file to trust [E2E_CACERT]")
    p.add_argument(
        "--http-url", default=env("E2E_HTTP_URL"), help="plain HTTP base URL for the redirect check [E2E_HTTP_URL]"
    )
    p.add_argument(
        "--second-client-cmd",
        default=env("E2E_SECOND_CLIENT_CMD"),
        help="shell command that sends a few /predict requests from ANOTHER client address and prints "
        "one HTTP status per line; it gets E2E_USER/E2E_PASSWORD in its environment",
    )
    p.add_argument(
        "--api-addr",
        action="append",
        default=[],
        metavar="HOST:PORT",
        help="an API address that must NOT be reachable from here (repeatable)",
    )
    p.add_argument(
        "--stop-replica-cmd",
        default=env("E2E_STOP_REPLICA_CMD"),
        help="shell command that stops ONE v1 replica (with --start-replica-cmd: failover check)",
    )
    p.add_argument(
        "--start-replica-cmd",
        default=env("E2E_START_REPLICA_CMD"),
        help="shell command that starts it again and returns once it is ready",
    )
    p.add_argument("--prometheus-url", default=env("E2E_PROMETHEUS_URL"), help="enables the monitoring checks")
    p.add_argument("--v1-replicas", type=int, default=int(env("E2E_V1_REPLICAS", "3")))
    add_rate_limit_arguments(p, bursts=3, burst_env="E2E_BURST")
    p.add_argument("--only", action="append", default=[], help="run only checks whose name contains this")
    return p.parse_args(argv)


def load_monitoring_checks():
    if not (HERE / "checks_monitoring.py").exists():
        return None
    module = importlib.import_module("checks_monitoring")
    return list(getattr(module, "CHECKS", []))


def main(argv=None) -> int:
    args = parse_args(argv)
    creds = credentials(args)
    if creds is None:
        print("error: credentials required (--user/--password or --credentials-file)", file=sys.stderr)
        return 2
    user, password = creds
    ctx = Context(
        target=Target(args.base_url, args.cacert, user, password),
        base_url=args.base_url,
        http_url=args.http_url,
        prometheus_url=args.prometheus_url,
        repo_root=HERE.parent.parent,
        second_client_cmd=args.second_client_cmd,
        api_addrs=args.api_addr,
        stop_replica_cmd=args.stop_replica_cmd,
        start_replica_cmd=args.start_replica_cmd,
        v1_replicas=args.v1_replicas,
        burst_size=args.burst,
        rate_limit_pause=args.rate_limit_pause,
    )

    checks = [("gateway", name, fn) for name, fn in GATEWAY_CHECKS]
    monitoring = load_monitoring_checks()
    if monitoring is None:
        print("note: tests/e2e/checks_monitoring.py not found; monitoring checks not run")
    elif not args.prometheus_url:
        print("note: no --prometheus-url; monitoring checks not run")
    else:
        checks += [("monitoring", name, fn) for name, fn in monitoring]
    if args.only:
        checks = [c for c in checks if any(o in c[1] for o in args.only)]

    passed = failed = skipped = 0
    print(f"e2e suite against {args.base_url} ({len(checks)} checks)")
    for group, name, fn in checks:
        start = time.monotonic()
        try:
            seen = fn(ctx)
        except Skip as exc:
            skipped += 1
            print(f"SKIP {group}/{name}: {exc}")
            continue
        except AssertionError as exc:
            failed += 1
            print(f"FAIL {group}/{name} ({time.monotonic() - start:.1f}s): {exc}")
            continue
        except Exception as exc:  # a transport error is a failure with what was seen, not a crash
            failed += 1
            print(f"FAIL {group}/{name} ({time.monotonic() - start:.1f}s): {type(exc).__name__}: {exc}")
            traceback.print_exc(limit=3, file=sys.stdout)
            continue
        passed += 1
        print(f"PASS {group}/{name} ({time.monotonic() - start:.1f}s): {seen or 'ok'}")
        sys.stdout.flush()

    print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
