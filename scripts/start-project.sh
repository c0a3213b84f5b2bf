#!/usr/bin/env bash
# `make start-project`: certificates and credentials if missing, the models
# if missing (scripts/train.sh), images (official: compose build; offline: offline-images.sh),
# start, wait until healthy, then print the URLs and where the credentials
# are. Idempotent: rerunning keeps existing secrets and model.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# Host tools first: one clear line per missing one (installed from Debian as root).
scripts/prerequisites.sh start
source scripts/stack-env.sh

scripts/certs.sh secrets
scripts/credentials.sh secrets

scripts/train.sh --if-missing
# V2_MODEL: the artifact v2 serves, a path under model/ (compose.yaml).
if [[ -n ${V2_MODEL-} ]]; then
    case $V2_MODEL in
        /* | *..*) echo "V2_MODEL must be a path under model/, got '$V2_MODEL'" >&2; exit 1 ;;
    esac
    [[ -s model/$V2_MODEL ]] || { echo "V2_MODEL: model/$V2_MODEL does not exist (make train writes model/challenger/emotion-model.bin)" >&2; exit 1; }
fi

echo "stack: $STACK_MODE images (${COMPOSE[*]})"
if [[ $STACK_MODE == offline ]]; then
    scripts/offline-images.sh
    "${COMPOSE[@]}" up -d --no-build --remove-orphans
else
    "${COMPOSE[@]}" build
    "${COMPOSE[@]}" up -d --remove-orphans
fi
# No reload needed after `up`: nginx re-resolves the API names by itself
# (nginx/conf/upstreams.conf), so recreated replicas are found within 2 s.
scripts/wait-healthy.sh "${WAIT_TIMEOUT:-240}"

cat <<MSG

Emotion gateway is up ($STACK_MODE images).
  API         $(gateway_url)/predict   (POST, basic auth; http://localhost:$(published_port nginx 80) redirects)
  Debug A/B   add header "X-Experiment-Group: debug"
  Prometheus  http://127.0.0.1:$(published_port prometheus 9090)
  Alerts      http://127.0.0.1:$(published_port alertmanager 9093) (Alertmanager); delivered alerts: scripts/compose.sh logs alert-receiver
MSG
if [[ $COMPOSE_PROFILES == *grafana* ]]; then
    echo "  Grafana     http://127.0.0.1:$(published_port grafana 3000)   (admin password in secrets/grafana.env)"
else
    echo "  Grafana     not started on the offline path (no local image; see docker/README.md)"
fi
cat <<MSG
  Credentials secrets/credentials.env (GATEWAY_USER / GATEWAY_PASSWORD, mode 600)
  CA cert     secrets/tls.crt

Try:
  set -a; . secrets/credentials.env; set +a
  curl --cacert secrets/tls.crt -u "\$GATEWAY_USER:\$GATEWAY_PASSWORD" \\
       -H 'Content-Type: application/json' -d '{"sentence":"what a lovely day"}' $(gateway_url)/predict
MSG
