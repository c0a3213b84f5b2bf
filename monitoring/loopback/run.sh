#!/usr/bin/env bash
# Live check of monitoring/ without containers: the real binaries on loopback.
#
#   monitoring/loopback/run.sh            # targets, metrics, rules, every dashboard query
#   monitoring/loopback/run.sh --alerts   # also stop a v1 replica and Nginx: TargetDown and
#                                         # GatewayDown must fire (adds about 2 minutes)
#   monitoring/loopback/run.sh --load     # also 2 x LOAD_REQUESTS (default 20000) requests with
#                                         # hey, then check the exporter counted every one
#
# Needs: target/release/{emotion-api,access-log-exporter} (BIN_DIR), a trained model
# (MODEL_PATH, default model/emotion-model.bin), and nginx, prometheus and
# prometheus-nginx-exporter on PATH (Debian packages). PROMETHEUS may name another binary.
#
# (1) Addresses: api-v1 replicas on 127.0.0.21-23, api-v2 on 127.0.0.24 (port 27000, metrics
#     27100), nginx 127.0.0.1:27080 (stub_status :27081), exporters :27113/:27114, Prometheus
#     :27090. Linux routes all of 127/8 to loopback, so four instances share one port number.
# (2) prometheus.yml is derived from monitoring/prometheus/prometheus.yml by swapping only the
#     target addresses (api-v1: static targets instead of Docker DNS), as the NixOS module does;
#     the rule files are used in place.
# (3) The nginx log format is copied from nginx/conf/logging.conf, so a drift between the
#     gateway's format and the exporter shows up as rejected lines here.
# Everything started is stopped by PID on exit; logs stay in the work directory on failure.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${BIN_DIR:-$root/target/release}
model=${MODEL_PATH:-$root/model/emotion-model.bin}
prometheus=${PROMETHEUS:-prometheus}
alerts=0
load=0
for arg in "$@"; do
    case $arg in
        --alerts) alerts=1 ;;
        --load) load=1 ;;
        *) echo "usage: run.sh [--alerts] [--load]" >&2; exit 2 ;;
    esac
done
load_requests=${LOAD_REQUESTS:-20000}

for exe in "$bin/emotion-api" "$bin/access-log-exporter"; do
    [[ -x $exe ]] || { echo "run.sh: $exe missing (cargo build --release)" >&2; exit 1; }
done
[[ -f $model ]] || { echo "run.sh: model $model missing (emotion-train)" >&2; exit 1; }
for cmd in nginx "$prometheus" prometheus-nginx-exporter curl python3; do
    command -v "$cmd" >/dev/null || { echo "run.sh: $cmd not on PATH" >&2; exit 1; }
done

work=$(mktemp -d /tmp/monitoring-loopback.XXXXXX)
declare -A pid=()
ok=0
cleanup() {
    for name in "${!pid[@]}"; do kill "${pid[$name]}" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [[ $ok == 1 ]]; then rm -rf "$work"; else echo "run.sh: logs kept in $work" >&2; fi
}
trap cleanup EXIT

start() { # name command...
    local name=$1; shift
    "$@" >"$work/$name.log" 2>&1 &
    pid[$name]=$!
}
wait_http() { # url
    for _ in $(seq 100); do
        curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
        sleep 0.2
    done
    echo "run.sh: $1 never answered" >&2
    exit 1
}
start_api() { # name variant ip
    start "$1" env EMOTION_VARIANT="$2" EMOTION_HTTP_ADDR="$3:27000" EMOTION_METRICS_ADDR="$3:27100" \
        EMOTION_MODEL_PATH="$model" EMOTION_INSTANCE_ID="$1" "$bin/emotion-api"
}

# --- configuration
sed -n '/^log_format gateway_metrics/,/;$/p' "$root/nginx/conf/logging.conf" >"$work/gateway_metrics_format.conf"
grep -q upstream_response_time "$work/gateway_metrics_format.conf" || { echo "run.sh: log format not found" >&2; exit 1; }
sed "s|@WORK@|$work|g" "$here/nginx.conf.in" >"$work/nginx.conf"
python3 - "$root/monitoring/prometheus/prometheus.yml" "$work/prometheus.yml" "$root/monitoring/prometheus/rules" <<'EOF'
import re, sys
src, dst, rules = sys.argv[1:]
text = open(src).read()
text, n = re.subn(r"    dns_sd_configs:\n      - names: \[\"api-v1\"\]\n(        .*\n)+",
                  '    static_configs:\n      - targets: ["127.0.0.21:27100", "127.0.0.22:27100", "127.0.0.23:27100"]\n', text)
assert n == 1, "api-v1 dns_sd_configs block not found"
# No Alertmanager here: its alerting block and the two jobs of the alerting path go.
text, n = re.subn(r"\nalerting:\n(  .*\n)+", "\n", text)
assert n == 1, "alerting block not found"
text, n = re.subn(r"\n(  #.*\n)*  - job_name: (alertmanager|alert-receiver)\n(    .*\n|      .*\n)+", "\n", text)
assert n == 2, "alertmanager and alert-receiver jobs not found"
for old, new in [('"localhost:9090"', '"127.0.0.1:27090"'), ('"nginx-exporter:9113"', '"127.0.0.1:27113"'),
                 ('"access-log-exporter:9114"', '"127.0.0.1:27114"'), ('"api-v2:9100"', '"127.0.0.24:27100"'),
                 ("  - rules/*.yml", f"  - {rules}/*.yml")]:
    assert old in text, f"{old} not found in prometheus.yml"
    text = text.replace(old, new)
open(dst, "w").write(text)
EOF

# --- services
for i in 1 2 3; do start_api "api-v1-$i" v1 "127.0.0.2$i"; done
start_api api-v2 v2 127.0.0.24
start access-log-exporter env EXPORTER_SYSLOG_ADDR=127.0.0.1:27514 EXPORTER_METRICS_ADDR=127.0.0.1:27114 \
    "$bin/access-log-exporter"
nginx -t -q -c "$work/nginx.conf" -p "$work"
start nginx nginx -c "$work/nginx.conf" -p "$work" -g "daemon off;"
wait_http http://127.0.0.1:27081/stub_status
# The 0.11 exporter exits if stub_status is unreachable at start-up, hence after nginx.
start nginx-exporter prometheus-nginx-exporter -nginx.scrape-uri http://127.0.0.1:27081/stub_status \
    -web.listen-address 127.0.0.1:27113
start prometheus "$prometheus" --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
    --web.listen-address=127.0.0.1:27090
for ip in 127.0.0.21 127.0.0.22 127.0.0.23 127.0.0.24; do wait_http "http://$ip:27000/health/ready"; done
wait_http http://127.0.0.1:27114/health/ready
wait_http http://127.0.0.1:27113/metrics
wait_http http://127.0.0.1:27090/-/ready
"$prometheus" --version 2>&1 | head -n 1

# --- traffic, then the same checks the e2e suite runs against compose
python3 "$here/traffic.py" http://127.0.0.1:27080 "$work/sent"
python3 "$root/tests/e2e/checks_monitoring.py" --prometheus-url http://127.0.0.1:27090
sent=$(cat "$work/sent")
if [[ $load == 1 ]]; then
    command -v hey >/dev/null || { echo "run.sh: --load needs hey" >&2; exit 1; }
    body='{"sentence":"load test"}'
    # Both variants at once, as fast as Nginx answers (mostly 429 from the per-IP limit).
    start_s=$(date +%s.%N)
    hey -n "$load_requests" -c 25 -m POST -T application/json -d "$body" \
        http://127.0.0.1:27080/predict >"$work/hey-v1.txt" &
    hey_v1=$!
    hey -n "$load_requests" -c 25 -m POST -T application/json -d "$body" -H "X-Experiment-Group: debug" \
        http://127.0.0.1:27080/predict >"$work/hey-v2.txt"
    wait "$hey_v1"
    echo "load: $((2 * load_requests)) requests in $(echo "$(date +%s.%N) - $start_s" | bc) s"
    grep -h -A4 "Status code distribution" "$work/hey-v1.txt" "$work/hey-v2.txt" | grep "\[" || true
    sent=$((sent + 2 * load_requests))
    sleep 6  # one scrape interval
fi
# Accounting: every request Nginx answered on :27080 is one access-log line and one count.
python3 - "$sent" <<'EOF'
import json, sys, time, urllib.parse, urllib.request
sent = int(sys.argv[1])
url = "http://127.0.0.1:27090/api/v1/query?" + urllib.parse.urlencode({"query": "sum(gateway_requests_total)"})
deadline = time.monotonic() + 15
while True:  # the last lines may land just after a scrape
    counted = float(json.load(urllib.request.urlopen(url))["data"]["result"][0]["value"][1])
    if counted == sent or time.monotonic() > deadline:
        break
    time.sleep(2)
print(("PASS" if counted == sent else "FAIL") + f" accounting: {sent} requests sent, {counted:.0f} counted by gateway_requests_total")
sys.exit(0 if counted == sent else 1)
EOF

if [[ $alerts == 1 ]]; then
    kill "${pid[api-v1-3]}"; unset 'pid[api-v1-3]'
    kill -QUIT "${pid[nginx]}"; unset 'pid[nginx]'
    echo "stopped api-v1-3 and nginx; waiting for TargetDown and GatewayDown to fire (for: 1m)"
    python3 - <<'EOF'
import json, sys, time, urllib.request
want = {("TargetDown", "127.0.0.23:27100"), ("GatewayDown", "127.0.0.1:27113")}
deadline = time.monotonic() + 150
while True:
    alerts = json.load(urllib.request.urlopen("http://127.0.0.1:27090/api/v1/alerts"))["data"]["alerts"]
    firing = {(a["labels"]["alertname"], a["labels"].get("instance", "")) for a in alerts if a["state"] == "firing"}
    if want <= firing:
        print("PASS alerts firing:", sorted(firing))
        break
    if time.monotonic() > deadline:
        print("FAIL alerts: want", sorted(want), "firing", sorted(firing))
        sys.exit(1)
    time.sleep(5)
EOF
fi
ok=1
