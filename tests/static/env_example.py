#!/usr/bin/env python3
"""`.env.example` says the truth: every setting compose reads is listed, with the default the
code really has.

Defaults live in the code that uses them (compose.yaml's `${VAR:-default}`, the `: "${VAR:=...}"`
lines of nginx/render-params.sh); .env.example restates them for people. This check fails when the
two disagree, or when compose passes a variable through that .env.example does not list.
Prints one line per problem and ends with `N passed, N failed`.
"""

import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "e2e"))
from cli import render_defaults  # noqa: E402  (the one reader of render-params.sh's defaults)


def example():
    """{name: value}, commented-out `# NAME=value` lines included."""
    out = {}
    for line in (REPO / ".env.example").read_text().splitlines():
        m = re.match(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$", line)
        if m:
            out[m.group(1)] = m.group(2).strip()
    return out


def main():
    listed = example()
    compose = (REPO / "compose.yaml").read_text()
    defaults = dict(re.findall(r"\$\{([A-Z][A-Z0-9_]*):-([^}]*)\}", compose))
    passed = sorted(set(re.findall(r"^      - ([A-Z][A-Z0-9_]*)$", compose, re.M)))
    # render-params.sh also has deployment-internal parameters (paths, listen addresses) that
    # compose sets itself; a user sets only those compose passes through.
    defaults.update({k: v for k, v in render_defaults().items() if k in passed})
    failures, checked = [], 0
    for name in sorted(set(defaults) | set(passed)):
        checked += 1
        if name not in listed:
            failures.append(f"{name}: read by compose or render-params.sh but not in .env.example")
        elif name in defaults and listed[name] != defaults[name]:
            failures.append(f"{name}: .env.example says {listed[name]!r}, the code's default is {defaults[name]!r}")
    for f in failures:
        print(f"FAIL {f}")
    print(f"{checked - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
