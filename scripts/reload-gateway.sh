#!/usr/bin/env bash
# `make reload-gateway`: apply new gateway parameters to the running nginx
# without a restart, e.g. `AB_V2_PERCENT=30 make reload-gateway`.
#
# (1) Which variables: those compose passes to nginx (compose.yaml's list,
#     read from there), each from this shell's environment, else from .env;
#     a variable set in neither keeps the container's value.
# (2) Checked before applied: the parameters are rendered into a scratch
#     tree inside the container by the same start hook
#     (docker/nginx/40-gateway.sh) and `nginx -t` must pass on it; only then
#     are the live parameters rewritten and `nginx -s reload` sent. A bad
#     value (AB_V2_PERCENT=101) changes nothing. The script returns once
#     new workers run, so the next request sees the new parameters.
# (3) A reload is graceful: old workers finish their requests, new workers
#     take new connections; no request fails (tests/resilience, `ab-ramp`).
#     Idle keep-alive connections of the old workers are closed, as on any
#     nginx reload: a client that was just reusing one retries it.
# (4) A value given on the command line but not in .env is live only until
#     the nginx container is recreated; the script says so, because a
#     recreation with the old weight would move users back to v1.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=scripts/stack-env.sh
source scripts/stack-env.sh

mapfile -t names < <(sed -n '/^  nginx:/,/^    volumes:/s/^      - \([A-Z][A-Z0-9_]*\)$/\1/p' compose.yaml)
dotenv_value() { [[ -f .env ]] && sed -n "s/^$1=//p" .env | tail -n 1; return 0; }

exec_env=()
for name in "${names[@]}"; do
    value=${!name-} from=environment
    [[ -n $value ]] || { value=$(dotenv_value "$name"); from=.env; }
    [[ -n $value ]] || continue
    exec_env+=(-e "$name=$value")
    echo "reload-gateway: $name=$value ($from)"
    if [[ $from == environment && $(dotenv_value "$name") != "$value" ]]; then
        echo "reload-gateway: $name=$value is not in .env: recreating nginx would bring back the old value" >&2
    fi
done

# shellcheck disable=SC2016 # the script runs in the container's shell
"${COMPOSE[@]}" exec -T "${exec_env[@]}" nginx sh -euc '
    scratch=$(mktemp -d)
    trap "rm -rf \"$scratch\"" EXIT
    mkdir "$scratch/params"
    cp /etc/nginx/nginx.conf "$scratch/"
    ln -s /etc/nginx/gateway "$scratch/gateway"
    GATEWAY_PARAMS_DIR="$scratch/params" sh /docker-entrypoint.d/40-gateway.sh >/dev/null
    nginx -t -q -c "$scratch/nginx.conf"
    sh /docker-entrypoint.d/40-gateway.sh
    master=$(cat /run/nginx.pid)
    workers() { cat "/proc/$master/task/$master/children"; }
    before=" $(workers) "
    nginx -s reload
    # `nginx -s reload` only signals the master: wait until workers with
    # the new configuration run, so that the next request sees it.
    for _ in $(seq 1 100); do
        new=0
        for pid in $(workers); do
            case "$before" in *" $pid "*) ;; *) new=1 ;; esac
        done
        [ "$new" = 1 ] && break
        sleep 0.1
    done
    [ "$new" = 1 ] || { echo "no new nginx workers 10 s after the reload" >&2; exit 1; }
    # The old workers close their listening sockets on the signal; give
    # them a moment to see it.
    sleep 0.5
'
echo "reload-gateway: reloaded"
