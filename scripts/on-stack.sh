#!/usr/bin/env bash
# Runs a command against this checkout's compose stack: reuses it when nginx
# is up and healthy, otherwise starts it (scripts/start-project.sh: offline
# images where there is no registry) and tears down, whatever the outcome,
# only what it started. The command inherits scripts/stack-env.sh's exports
# (COMPOSE_PROJECT_NAME, the image variables).
#
# Usage: scripts/on-stack.sh COMMAND [ARGS...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=scripts/stack-env.sh
source scripts/stack-env.sh

nginx_id=$("${COMPOSE[@]}" ps -q nginx 2>/dev/null || true)
if [[ -n $nginx_id && $(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$nginx_id") == healthy ]]; then
    echo "==> stack already running: using it as it is"
else
    echo "==> starting the stack ($STACK_MODE images); it is torn down afterwards"
    teardown() {
        echo "==> tearing down the stack started for this run"
        "${COMPOSE[@]}" down -v --remove-orphans || true
    }
    trap teardown EXIT
    scripts/start-project.sh
fi
"$@"
