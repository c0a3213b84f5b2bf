# shellcheck shell=bash
# Sourced by the stack scripts (not executed). Sets:
#   COMPOSE           the compose command: `docker compose` (Compose v2; the
#                     end-of-life Python v1 `docker-compose` is not used)
#   STACK_MODE        official | offline
#   the image variables compose.yaml reads, for the offline mode
#   COMPOSE_PROFILES  grafana on the official path only
#
# Mode: OFFLINE=1 forces offline, OFFLINE=0 official. Otherwise (auto) the
# official images are used when they are present locally or can be pulled,
# else the offline images (scripts/offline-images.sh). The decision is kept
# in build/stack-mode so that later commands (stop, logs, test) agree with
# the one that started the stack; `make clean-mode` forgets it.

stack_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export COMPOSE_PROJECT_NAME=${COMPOSE_PROJECT_NAME:-emotion-gateway}
export COMPOSE_FILE=$stack_root/compose.yaml

# shellcheck disable=SC2034 # COMPOSE is for the scripts that source this file
if docker compose version >/dev/null 2>&1; then
    COMPOSE=(docker compose)
else
    echo "Compose v2 ('docker compose') is missing: scripts/prerequisites.sh start installs it (as root on Debian)" >&2
    return 1
fi

official_images() {
    local f=$stack_root/compose.yaml
    # The pinned defaults, read from compose.yaml so they are written once.
    sed -n 's/.*\${\(NGINX_IMAGE\|NGINX_EXPORTER_IMAGE\|PROMETHEUS_IMAGE\|ALERTMANAGER_IMAGE\|GRAFANA_IMAGE\):-\([^}]*\)}.*/\2/p' "$f"
}

detect_mode() {
    case ${OFFLINE:-auto} in
        1 | true | yes) echo offline; return ;;
        0 | false | no) echo official; return ;;
    esac
    if [[ -s $stack_root/build/stack-mode ]]; then
        cat "$stack_root/build/stack-mode"
        return
    fi
    local image
    for image in $(official_images); do
        docker image inspect "$image" >/dev/null 2>&1 && continue
        if ! timeout 120 docker pull -q "$image" >/dev/null 2>&1; then
            echo "stack: cannot get $image (no registry?): using the offline images" >&2
            echo offline
            return
        fi
    done
    echo official
}

STACK_MODE=$(detect_mode)
mkdir -p "$stack_root/build"
echo "$STACK_MODE" >"$stack_root/build/stack-mode"

if [[ $STACK_MODE == offline ]]; then
    offline_tag=${OFFLINE_TAG:-${SUITE:-forky}}
    export NGINX_IMAGE=emotion-gateway/offline-nginx:$offline_tag
    export NGINX_EXPORTER_IMAGE=emotion-gateway/offline-nginx-exporter:$offline_tag
    export PROMETHEUS_IMAGE=emotion-gateway/offline-prometheus:$offline_tag
    export ALERTMANAGER_IMAGE=emotion-gateway/offline-alertmanager:$offline_tag
    export API_IMAGE=emotion-gateway/offline-emotion-api:$offline_tag
    export ACCESS_LOG_EXPORTER_IMAGE=emotion-gateway/offline-access-log-exporter:$offline_tag
    export ALERT_RECEIVER_IMAGE=emotion-gateway/offline-alert-receiver:$offline_tag
    export COMPOSE_PROFILES=${COMPOSE_PROFILES:-}
else
    export COMPOSE_PROFILES=${COMPOSE_PROFILES:-grafana}
fi

# The host port the running stack publishes for SERVICE's container PORT, as compose resolved
# it (environment, .env, or compose.yaml's `${HTTPS_PORT:-443}`-style default): asked of the
# stack rather than restated here, so a port changed in .env is the port the scripts use.
published_port() { # SERVICE PORT
    local addr
    addr=$("${COMPOSE[@]}" port "$1" "$2" 2>/dev/null) && [[ -n $addr ]] || {
        echo "stack: $1 publishes no port $2 (is the stack up?)" >&2
        return 1
    }
    echo "${addr##*:}"
}

# https://localhost, or https://localhost:PORT when the gateway is not published on 443.
gateway_url() {
    local port
    port=$(published_port nginx 443) || return 1
    echo "https://localhost$([[ $port == 443 ]] || echo ":$port")"
}
