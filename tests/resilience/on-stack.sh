#!/usr/bin/env bash
# Runs a resilience command against the project's stack, starting it first if it is not
# up and healthy (through the Makefile's path: scripts/start-project.sh, offline images where there
# is no registry) and tearing down again only what it started, like scripts/test.sh.
#
# Usage: tests/resilience/on-stack.sh python3 tests/resilience/run.py [--only ...]
#        tests/resilience/on-stack.sh python3 tests/resilience/bench.py
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
# shellcheck source=scripts/stack-env.sh
source scripts/stack-env.sh

nginx_id=$("${COMPOSE[@]}" ps -q nginx 2>/dev/null || true)
if [[ -n $nginx_id && $(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$nginx_id") == healthy ]]; then
    echo "==> stack already running: testing it as it is"
else
    echo "==> starting the stack ($STACK_MODE images); it is torn down afterwards"
    teardown() {
        echo "==> tearing down the stack started for the resilience run"
        "${COMPOSE[@]}" down -v --remove-orphans || true
    }
    trap teardown EXIT
    scripts/start-project.sh
fi
# Leftover client containers of an interrupted run (they also expire on their own after 15 min).
leftover=$(docker ps -aq --filter label=emotion-resilience=1)
[[ -z $leftover ]] || docker rm -f $leftover >/dev/null
COMPOSE_PROJECT_NAME=$COMPOSE_PROJECT_NAME "$@"
