#!/usr/bin/env bash
# Runs a resilience command against the project's stack through scripts/on-stack.sh
# (reuse it when healthy, otherwise start it and tear down only what was started), after
# removing client containers left by an interrupted run (they also expire on their own
# after 15 min).
#
# Usage: tests/resilience/on-stack.sh python3 tests/resilience/run.py [--only ...]
#        tests/resilience/on-stack.sh python3 tests/resilience/bench.py
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
leftover=$(docker ps -aq --filter label=emotion-resilience=1)
[[ -z $leftover ]] || docker rm -f $leftover >/dev/null
exec scripts/on-stack.sh "$@"
