#!/usr/bin/env bash
# Load benchmark of ONE emotion-api replica on loopback (no gateway, rate limit disabled).
#
# Builds release binaries, trains the model if model/emotion-model.bin is missing, starts one
# replica, measures time-to-ready from process start (polling /health/ready), runs wrk against
# POST /predict for a fixed duration, reads resident memory (VmRSS/VmHWM) from /proc after the
# load and again after SETTLE seconds idle, then stops the replica with SIGTERM. Stops by itself;
# nothing outlives the script.
#
# Knobs (environment): DURATION (default 20s), CONNECTIONS (64), THREADS (1), PORT (18000),
# METRICS_PORT (19100), VARIANT (v1), BATCH (0: POST /predict; N: POST /predict/batch with N
# sentences per request), SETTLE (10). wrk and the server share this machine's cores: the numbers
# are for the pair, not for the server alone.
set -euo pipefail

cd "$(dirname "$0")/../.."
# shellcheck source=scripts/bench/lib.sh
. scripts/bench/lib.sh
DURATION=${DURATION:-20s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-1}
PORT=${PORT:-18000}
METRICS_PORT=${METRICS_PORT:-19100}
VARIANT=${VARIANT:-v1}
BATCH=${BATCH:-0}
SETTLE=${SETTLE:-10}
export BATCH # read by predict.lua
route=/predict
[[ $BATCH -gt 0 ]] && route=/predict/batch
MODEL=model/emotion-model.bin
BIN=target/release/emotion-api
LOG=$(mktemp -t emotion-api-bench.XXXXXX.log)

bench_require_tools
bench_build_rust

pid=""
cleanup() {
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT INT TERM

echo "== start one replica (variant $VARIANT, rate limit off) on 127.0.0.1:$PORT"
start_ns=$(date +%s%N)
EMOTION_VARIANT=$VARIANT \
EMOTION_HTTP_ADDR=127.0.0.1:$PORT \
EMOTION_METRICS_ADDR=127.0.0.1:$METRICS_PORT \
EMOTION_MODEL_PATH=$MODEL \
EMOTION_RATE_LIMIT_RPS=0 \
EMOTION_INSTANCE_ID=bench \
RUST_LOG=warn \
  "$BIN" >"$LOG" 2>&1 &
pid=$!

ready=$(bench_wait_ready "http://127.0.0.1:$PORT/health/ready" "$pid" "$start_ns" 20) || {
  kill -0 "$pid" 2>/dev/null || { echo "replica exited; log:" >&2; cat "$LOG" >&2; exit 1; }
  ready=""
}
if [[ -z $ready ]]; then
  echo "replica not ready within the polling budget; log:" >&2
  cat "$LOG" >&2
  exit 1
fi
rss_idle=$(status_kb "$pid" VmRSS)

echo "== warm-up (2s)"
wrk -t"$THREADS" -c"$CONNECTIONS" -d2s -s scripts/bench/predict.lua "http://127.0.0.1:$PORT$route" >/dev/null

echo "== load: BATCH=$BATCH wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency -s scripts/bench/predict.lua ...$route"
out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s scripts/bench/predict.lua \
  "http://127.0.0.1:$PORT$route")
echo "$out"
rss=$(status_kb "$pid" VmRSS)
hwm=$(status_kb "$pid" VmHWM)
sleep "$SETTLE"
rss_settled=$(status_kb "$pid" VmRSS)

bench=$(grep '^BENCH ' <<<"$out")
field() { bench_field "$1" "$bench"; }

load_avg=$(cut -d' ' -f1-3 /proc/loadavg)

echo "== stop (SIGTERM)"
kill -TERM "$pid"
wait "$pid" && stop_status=0 || stop_status=$?
pid=""

cat <<SUMMARY

== result ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores shared by wrk and the server)
requests/s          $(field rps)
p50 latency         $(field p50_ms) ms
p99 latency         $(field p99_ms) ms
non-2xx answers     $(field non_2xx)
socket errors       $(field socket_errors)
time to ready       ${ready} ms (from process start, polled every ~2 ms)
resident idle       $(mib "$rss_idle") MiB (VmRSS ${rss_idle} kB)
resident after load $(mib "$rss") MiB (VmRSS ${rss} kB, VmHWM ${hwm} kB)
resident ${SETTLE} s later $(mib "$rss_settled") MiB (VmRSS ${rss_settled} kB)
route               ${route} (BATCH=${BATCH})
exit on SIGTERM     ${stop_status}
load average        ${load_avg} (1/5/15 min, at the end of the run; other work on the machine skews results)
SUMMARY

if [[ $(field non_2xx) != 0 || $(field socket_errors) != 0 ]]; then
  echo "errors during the run" >&2
  exit 1
fi
