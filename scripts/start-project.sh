#!/usr/bin/env bash
# `make start-project`: certificates and credentials if missing, the model
# if missing, images (official: compose build; offline: offline-images.sh),
# start, wait until healthy, then print the URLs and where the credentials
# are. Idempotent: rerunning keeps existing secrets and model.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source scripts/stack-env.sh

scripts/certs.sh secrets
scripts/credentials.sh secrets

if [[ ! -s model/emotion-model.bin ]]; then
    echo "model: model/emotion-model.bin missing, training it (make train)"
    cargo run --release -p emotion-model --bin emotion-train -- --data data/tweet_emotions.csv --out model/
fi

echo "stack: $STACK_MODE images (${COMPOSE[*]})"
if [[ $STACK_MODE == offline ]]; then
    scripts/offline-images.sh
    "${COMPOSE[@]}" up -d --no-build --remove-orphans
else
    "${COMPOSE[@]}" build
    "${COMPOSE[@]}" up -d --remove-orphans
fi
scripts/wait-healthy.sh "${WAIT_TIMEOUT:-240}"
# nginx resolves api-v1/api-v2 to addresses when it loads its configuration;
# if this `up` recreated API containers behind a running nginx, they have new
# addresses. A reload re-resolves them without dropping a request
# (tests/resilience: gateway-reload).
"${COMPOSE[@]}" exec -T nginx nginx -s reload

http_port=${HTTP_PORT:-80}
https_port=${HTTPS_PORT:-443}
suffix=$([[ $https_port == 443 ]] || echo ":$https_port")
cat <<MSG

Emotion gateway is up ($STACK_MODE images).
  API         https://localhost$suffix/predict   (POST, basic auth; http://localhost:$http_port redirects)
  Debug A/B   add header "X-Experiment-Group: debug"
  Prometheus  http://127.0.0.1:${PROMETHEUS_PORT:-9090}
MSG
if [[ $COMPOSE_PROFILES == *grafana* ]]; then
    echo "  Grafana     http://127.0.0.1:${GRAFANA_PORT:-3000}   (admin password in secrets/grafana.env)"
else
    echo "  Grafana     not started on the offline path (no local image; see docker/README.md)"
fi
cat <<MSG
  Credentials secrets/credentials.env (GATEWAY_USER / GATEWAY_PASSWORD, mode 600)
  CA cert     secrets/tls.crt

Try:
  set -a; . secrets/credentials.env; set +a
  curl --cacert secrets/tls.crt -u "\$GATEWAY_USER:\$GATEWAY_PASSWORD" \\
       -H 'Content-Type: application/json' -d '{"sentence":"what a lovely day"}' https://localhost$suffix/predict
MSG
