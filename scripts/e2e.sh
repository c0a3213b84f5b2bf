#!/usr/bin/env bash
# Runs tests/e2e/run.py against the local compose stack, filling in what
# only this deployment knows: ports, CA, credentials, a second client (a
# throwaway container on the frontend network, so another source address),
# the API container addresses (which must be unreachable from the host) and
# Prometheus. Extra arguments go to run.py.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source scripts/stack-env.sh

base_url=$(gateway_url)
http_port=$(published_port nginx 80)
prometheus_port=$(published_port prometheus 9090)
nginx_image=$(docker inspect -f '{{.Config.Image}}' "$("${COMPOSE[@]}" ps -q nginx)")
network=${COMPOSE_PROJECT_NAME}_frontend

# A second client: curl in the nginx image (the official image has curl as
# well), five sequential requests, one status per line.
second_client="docker run --rm --network $network -e E2E_USER -e E2E_PASSWORD --entrypoint sh $nginx_image -c '
for i in 1 2 3 4 5; do
  curl -sk -o /dev/null -w \"%{http_code}\n\" -u \"\$E2E_USER:\$E2E_PASSWORD\" \
    -H \"Content-Type: application/json\" -d \"{\\\"sentence\\\":\\\"hello there\\\"}\" https://nginx/predict
done'"

api_args=()
for service in api-v1 api-v2; do
    for id in $("${COMPOSE[@]}" ps -q "$service"); do
        for ip in $(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' "$id"); do
            api_args+=(--api-addr "$ip:8000" --api-addr "$ip:9100")
        done
    done
done

# Failover: stop one api-v1 replica, later start it again and wait until
# Docker reports it healthy (the check then waits for nginx to re-admit it).
# (No `| head` here: with pipefail, head closing the pipe early kills the
# run with SIGPIPE, status 141, whenever compose writes after it.)
mapfile -t v1_ids < <("${COMPOSE[@]}" ps -q api-v1)
victim=${v1_ids[0]:?no api-v1 container}
stop_replica="docker stop -t 10 $victim >/dev/null"
start_replica="docker start $victim >/dev/null && for i in \$(seq 60); do
  [ \"\$(docker inspect -f '{{.State.Health.Status}}' $victim)\" = healthy ] && exit 0; sleep 1; done; exit 1"

exec python3 tests/e2e/run.py \
    --base-url "$base_url" \
    --http-url "http://localhost:$http_port" \
    --cacert secrets/tls.crt \
    --credentials-file secrets/credentials.env \
    --second-client-cmd "$second_client" \
    --stop-replica-cmd "$stop_replica" \
    --start-replica-cmd "$start_replica" \
    --prometheus-url "http://127.0.0.1:$prometheus_port" \
    "${api_args[@]}" "$@"
