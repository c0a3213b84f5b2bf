#!/usr/bin/env bash
# `make redeploy`: replace every replica of the API services with a new
# container (the current image and configuration, e.g. after `make
# images-offline` or an edit of compose.yaml) without a failed request.
#
# Usage: scripts/redeploy.sh [SERVICE...]   (default: api-v1 api-v2)
#
# (1) Why not `docker compose up -d --force-recreate`: compose stops every
#     replica of a service before it starts their replacements, so for the
#     few seconds in between the variant has no replica at all and the
#     gateway answers its JSON 503 not_ready (resilience test `recreate`).
# (2) Here capacity never drops: the service is scaled to twice its
#     replicas (`--no-recreate` leaves the old ones alone, the new ones get
#     the current image and configuration), and only once every new one is
#     healthy are the old ones stopped, one at a time. nginx follows the
#     names by itself (nginx/conf/upstreams.conf): the new replicas take
#     traffic within one re-resolution, no reload.
# (3) `docker stop` sends SIGTERM: a replica stops accepting (a connect is
#     refused, and nginx tries the next replica at once) and finishes what
#     it has in flight within its stop_grace_period. Between two stops the
#     script waits for one re-resolution (REDEPLOY_SETTLE_SECONDS, default 3,
#     just above the resolver's 2 s), so nginx has dropped one address
#     before the next goes.
# (4) One service after the other, so a variant never loses more than the
#     one replica being stopped; the services' other containers (nginx,
#     monitoring) are not touched (--no-deps).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=scripts/stack-env.sh
source scripts/stack-env.sh

settle=${REDEPLOY_SETTLE_SECONDS:-3}
timeout=${REDEPLOY_TIMEOUT_SECONDS:-180}
services=("$@")
[[ ${#services[@]} -gt 0 ]] || services=(api-v1 api-v2)

health() { # CONTAINER -> running/healthy, running/starting, exited/none, ...
    docker inspect -f '{{.State.Status}}/{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$1"
}

redeploy() { # SERVICE
    local service=$1 old new id deadline pending
    mapfile -t old < <("${COMPOSE[@]}" ps -q "$service")
    if [[ ${#old[@]} -eq 0 ]]; then
        echo "redeploy: $service has no running replica: nothing to replace (make start-project starts it)" >&2
        return 1
    fi
    echo "redeploy: $service: starting ${#old[@]} new replicas beside ${#old[@]} old"
    "${COMPOSE[@]}" up -d --no-deps --no-recreate --scale "$service=$((2 * ${#old[@]}))" "$service"

    mapfile -t new < <("${COMPOSE[@]}" ps -q "$service" | grep -vxF -f <(printf '%s\n' "${old[@]}"))
    if [[ ${#new[@]} -ne ${#old[@]} ]]; then
        echo "redeploy: $service: expected ${#old[@]} new replicas, found ${#new[@]}; the old ones keep serving" >&2
        return 1
    fi
    deadline=$((SECONDS + timeout))
    while :; do
        pending=()
        for id in "${new[@]}"; do
            [[ $(health "$id") == running/healthy ]] || pending+=("${id:0:12}=$(health "$id")")
        done
        [[ ${#pending[@]} -eq 0 ]] && break
        if ((SECONDS >= deadline)); then
            echo "redeploy: $service: new replicas not healthy after ${timeout}s (${pending[*]}):" \
                "removing them, the old ones keep serving" >&2
            docker rm -f "${new[@]}" >/dev/null
            return 1
        fi
        sleep 1
    done
    echo "redeploy: $service: ${#new[@]} new replicas healthy; stopping the old ones one at a time"
    sleep "$settle" # one re-resolution: nginx sends to the new replicas before the first old one goes
    for id in "${old[@]}"; do
        docker stop "$id" >/dev/null
        docker rm "$id" >/dev/null
        echo "redeploy: $service: stopped and removed ${id:0:12}"
        sleep "$settle"
    done
}

for service in "${services[@]}"; do
    redeploy "$service"
done
echo "redeploy: done: $("${COMPOSE[@]}" ps --format '{{.Service}}' | sort | uniq -c | awk '{printf "%s%s × %s", s, $1, $2; s = ", "}')"
