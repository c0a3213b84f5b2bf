#!/usr/bin/env python3
"""Resilience suite: prove the running compose stack holds under failure, hostile input and load.

Usage:
  python3 tests/resilience/run.py                 every test (about 18 minutes)
  python3 tests/resilience/run.py --only tls,auth a subset, by name or group
  python3 tests/resilience/run.py --list

Runs against the stack of this checkout (brought up with `make start-project`); finds it by its
compose labels. Needs root (nsenter, docker), python3, openssl; schemathesis is installed by the
suite into build/resilience/venv. Prints PASS/FAIL lines and ends with `N passed, N failed`.
The benchmark is separate: tests/resilience/bench.py.
"""

import argparse
import os
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import t_alerting  # noqa: E402
import t_availability  # noqa: E402
import t_edges  # noqa: E402
import t_experiments  # noqa: E402
import t_hostile  # noqa: E402
import t_limits  # noqa: E402
import t_operations  # noqa: E402
import t_reconcile  # noqa: E402
import t_rollout  # noqa: E402
import t_security  # noqa: E402
from rlib.report import Report  # noqa: E402

# Order matters: the log and image scans run last, after every test sent authenticated traffic;
# the limit tests run before anything that could leave a replica marked down; partial-start
# restarts nginx, so it comes after everything that needs nginx's uptime; alert-delivery stops
# every api-v1 replica for a minute and a half, so nothing after it sends traffic.
TESTS = [
    ("routing", "routing", t_availability.test_routing),
    ("nginx-errors", "edges", t_edges.test_nginx_errors),
    ("redirect", "edges", t_edges.test_redirect),
    ("header-edges", "edges", t_edges.test_header_edges),
    ("tls-protocols", "tls", t_security.test_tls_protocols),
    ("tls-ciphers", "tls", t_security.test_tls_ciphers),
    ("hsts", "tls", t_security.test_hsts),
    ("per-ip-limits", "limits", t_limits.test_per_ip_limits),
    ("open-limits", "limits", t_edges.test_open_limits),
    ("log-volume", "limits", t_edges.test_log_volume),
    ("bruteforce", "auth", t_limits.test_bruteforce),
    ("reconcile", "lost", t_reconcile.test_reconcile),
    ("failover-kill", "failover", t_availability.test_failover_kill),
    ("failover-stop", "failover", t_availability.test_failover_stop),
    ("pause", "operations", t_operations.test_pause),
    ("rolling-restart", "rolling", t_availability.test_rolling_restart),
    ("model-rollout", "rollout", t_rollout.test_model_rollout),
    ("gateway-reload", "reload", t_availability.test_gateway_reload),
    ("ab-ramp", "experiments", t_experiments.test_ab_ramp),
    ("shadow", "experiments", t_experiments.test_shadow_same_artifact),
    ("shadow-v2-hung", "experiments", t_experiments.test_shadow_v2_hung),
    ("experiment", "experiments", t_experiments.test_experiment),
    ("recreate", "operations", t_operations.test_recreate),
    ("scale", "operations", t_operations.test_scale),
    ("redeploy", "operations", t_operations.test_redeploy),
    ("oversized", "hostile", t_hostile.test_oversized),
    ("slow-clients", "hostile", t_hostile.test_slow_clients),
    ("schemathesis", "hostile", t_hostile.test_schemathesis),
    ("partial-start", "operations", t_operations.test_partial_start),
    # After partial-start, which restarts nginx: the memory bound is measured from a fresh nginx,
    # not from the high-water mark the earlier scenarios left in its workers' heaps.
    ("descriptor-limit", "hostile", t_edges.test_descriptor_limit),
    ("slow-flood", "hostile", t_edges.test_slow_flood),
    ("alert-delivery", "alerting", t_alerting.test_alert_delivery),
    ("secret-modes", "auth", t_security.test_secret_file_modes),
    ("no-creds-in-logs", "auth", t_security.test_no_credentials_in_logs),
    ("no-secrets-in-images", "auth", t_security.test_no_secrets_in_images),
]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", default="", help="comma-separated test names or groups")
    p.add_argument("--skip", default="", help="comma-separated test names or groups")
    p.add_argument("--list", action="store_true")
    p.add_argument(
        "--write-results", action="store_true", help="record this run's lines in tests/resilience/RESULTS.md"
    )
    a = p.parse_args()
    if a.list:
        for name, group, fn in TESTS:
            print(f"{name:22} {group:9} {(fn.__doc__ or '').strip().splitlines()[0] if fn.__doc__ else ''}")
        return 0
    only = {x for x in a.only.split(",") if x}
    skip = {x for x in a.skip.split(",") if x}
    selected = [
        (n, g, f) for n, g, f in TESTS if (not only or n in only or g in only) and n not in skip and g not in skip
    ]
    rep = Report()
    from rlib.context import Context

    try:
        ctx = Context(rep)
    except Exception as e:
        rep.check("stack: the compose stack of this checkout is up and discoverable", False, str(e))
        return rep.close()
    cs = ctx.stack.containers()
    sick = [
        f"{c.name}({'running' if c.running else 'stopped'}/{c.health or 'no healthcheck'})"
        for c in cs
        if not c.running or c.health not in ("", "healthy")
    ]
    if not rep.check(
        "stack: every container running and healthy before the suite",
        bool(cs) and not sick,
        f"{len(cs)} containers; not ready: {sick or 'none'}",
    ):
        return rep.close()
    rep.info(
        f"project {ctx.stack.project}, gateway {ctx.gateway_ip} on {ctx.network}, "
        f"rate limit {ctx.rate:.0f} r/s burst {ctx.burst}, v1 replicas {len(ctx.v1())}, v2 {len(ctx.v2())}"
    )
    for name, _, fn in selected:
        print(f"# {name}", flush=True)
        try:
            ctx.refresh()
            fn(ctx, rep)
        except Exception as e:  # a crashed test is a failed test, with its reason
            rep.check(f"{name}: ran to completion", False, f"{type(e).__name__}: {e}")
            traceback.print_exc(limit=3)
    if a.write_results:
        record(rep, sys.argv[1:], ctx)
    return rep.close()


def record(rep, argv, ctx):
    import datetime

    from rlib.report import write_block

    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    cmd = " ".join(["python3", "tests/resilience/run.py", *argv])
    block = "\n".join(
        [
            f"## Suite ({now})",
            "",
            f"Command: `{cmd}` (`make test-resilience`), against compose project `{ctx.stack.project}`: "
            f"{len(ctx.v1())} api-v1 + {len(ctx.v2())} api-v2, rate limit {ctx.rate:.0f} r/s burst {ctx.burst}.",
            "",
            "```",
            *rep.lines,
            rep.summary(),
            "```",
        ]
    )
    write_block(os.path.join(os.path.dirname(os.path.abspath(__file__)), "RESULTS.md"), "suite", block)


if __name__ == "__main__":
    sys.exit(main())
