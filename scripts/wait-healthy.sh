#!/usr/bin/env bash
# Waits until every container of the stack is running and, where it has a
# healthcheck, healthy, with the project's own timeout and message (compose's
# `up --wait` stops at the first unhealthy container and names none of the others).
# Usage: scripts/wait-healthy.sh [TIMEOUT_SECONDS]   (default 240)
set -euo pipefail
source "$(dirname "$0")/stack-env.sh"

deadline=$((SECONDS + ${1:-240}))
while :; do
    mapfile -t ids < <("${COMPOSE[@]}" ps -q)
    pending=()
    for id in "${ids[@]}"; do
        state=$(docker inspect -f '{{.Name}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$id")
        read -r name status health <<<"$state"
        if [[ $status != running || ($health != healthy && $health != none) ]]; then
            pending+=("${name#/}=$status/$health")
        fi
    done
    if [[ ${#ids[@]} -gt 0 && ${#pending[@]} -eq 0 ]]; then
        echo "stack: all ${#ids[@]} containers running and healthy"
        exit 0
    fi
    if ((SECONDS >= deadline)); then
        echo "stack: not healthy in time: ${pending[*]:-no containers}" >&2
        "${COMPOSE[@]}" ps >&2 || true
        for p in "${pending[@]}"; do
            echo "--- logs of ${p%%=*}" >&2
            docker logs --tail 30 "${p%%=*}" >&2 || true
        done
        exit 1
    fi
    sleep 2
done
