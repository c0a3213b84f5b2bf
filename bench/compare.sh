#!/usr/bin/env bash
# The Rust replica and the Python reference, side by side, in one run (bench/README.md).
#
# Cases, one after another, each server alone on loopback, started fresh and stopped before the next:
#   rust  emotion-api, release build, variant v1, rate limit off (EMOTION_RATE_LIMIT_RPS=0)
#   py1   the Python reference (bench/python-reference: FastAPI + scikit-learn), one uvicorn
#         process, as the exam ran it
#   pyN   the same with WORKERS uvicorn worker processes (default: nproc)
# For each: time to first answer (process start until GET /health/ready answers 200), a warm-up,
# then `wrk --latency -s scripts/bench/predict.lua` on POST /predict (the sentences of
# scripts/bench/replica.sh), with the CPU time (utime+stime+cutime+cstime from /proc/PID/stat) of
# the server's process tree read just before and just after the load, and its resident memory
# (sum of VmRSS, and of Pss) just after.
#
# First use: installs the reference from PyPI into build/python-reference/venv (pinned
# bench/python-reference/requirements.txt; again whenever that file changes), trains it into
# build/python-reference/model.joblib if missing, builds emotion-api and trains
# model/emotion-model.bin if missing. Nothing started outlives the script (trap on exit).
#
# Usage: bench/compare.sh [--out FILE]   (--out, or OUT=FILE: also append the result to FILE,
#        e.g. bench/RESULTS.md)
# Knobs (environment): DURATION (20s), CONNECTIONS (32), THREADS (wrk threads, 1), WORKERS (pyN's
# uvicorn workers, nproc), WARMUP (2s), TIMEOUT (wrk's request timeout, 10s), CASES ("rust py1 pyN"),
# BASE_PORT (18100: rust on +0 and +1 for metrics, py1 on +10, pyN on +20), READY_TIMEOUT (120 s),
# POLL (readiness polling interval, 0.005 s), PY_ACCESS_LOG (0: uvicorn's access log off, like
# RUST_LOG=warn for the replica; 1: on, as the exam's server had it).
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=scripts/bench/lib.sh
. scripts/bench/lib.sh

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
OUT=${OUT:-}
argv=("$@")
while [[ $# -gt 0 ]]; do
  case $1 in
    --out) [[ $# -ge 2 ]] || { echo "--out needs a file" >&2; exit 2; }; OUT=$2; shift 2 ;;
    --out=*) OUT=${1#--out=}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

DURATION=${DURATION:-20s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-1}
WORKERS=${WORKERS:-$(nproc)}
WARMUP=${WARMUP:-2s}
TIMEOUT=${TIMEOUT:-10s}
CASES=${CASES:-rust py1 pyN}
BASE_PORT=${BASE_PORT:-18100}
READY_TIMEOUT=${READY_TIMEOUT:-120}
POLL=${POLL:-0.005}
PY_ACCESS_LOG=${PY_ACCESS_LOG:-0}
export BATCH=0 # predict.lua: one sentence per request

REF=build/python-reference
VENV=$REF/venv
REQUIREMENTS=bench/python-reference/requirements.txt
PY_MODEL=$REF/model.joblib
RUST_MODEL=model/emotion-model.bin
RUST_BIN=target/release/emotion-api
CLK_TCK=$(getconf CLK_TCK)

# The command as run, for the record.
command_line="DURATION=$DURATION CONNECTIONS=$CONNECTIONS THREADS=$THREADS WORKERS=$WORKERS"
# Other knobs only when they differ from their defaults.
for knob in WARMUP=2s TIMEOUT=10s "CASES=rust py1 pyN" BASE_PORT=18100 READY_TIMEOUT=120 POLL=0.005 PY_ACCESS_LOG=0; do
  name=${knob%%=*}
  [[ ${!name} == "${knob#*=}" ]] || command_line+=" $name=$(printf '%q' "${!name}")"
done
command_line+=" bench/compare.sh"
((${#argv[@]} == 0)) || command_line+=$(printf ' %q' "${argv[@]}")
[[ $(nice) == 0 ]] || command_line=${command_line/ bench\/compare.sh/ nice -n $(nice) bench\/compare.sh}

bench_require_tools
for c in $CASES; do
  [[ $c == rust || $c == py1 || $c == pyN ]] || { echo "unknown case '$c' in CASES (rust, py1, pyN)" >&2; exit 2; }
done

# --- processes ------------------------------------------------------------------------------------

started=() # root pids of the servers still running
logs=$(mktemp -d -t emotion-compare.XXXXXX)
status=0

# The pid and every live descendant of it.
tree_pids() {
  ps -e -o pid=,ppid= | awk -v root="$1" '
    { parent[$1] = $2 }
    END {
      if (!(root in parent)) exit
      in_tree[root] = 1
      do {
        grown = 0
        for (p in parent) if (!(p in in_tree) && (parent[p] in in_tree)) { in_tree[p] = 1; grown = 1 }
      } while (grown)
      for (p in in_tree) print p
    }'
}

# SIGTERM to the root, up to 15 s for it to exit, then SIGKILL to whatever of its tree is left.
# Sets STOP_RC to the root's exit status. Not in a subshell: only this shell can reap the root.
STOP_RC=""
stop_tree() {
  local root=$1 pids rc=0
  pids=$(tree_pids "$root")
  kill -TERM "$root" 2>/dev/null || true
  for _ in $(seq 1 150); do
    kill -0 "$root" 2>/dev/null || break
    sleep 0.1
  done
  for p in $pids; do kill -KILL "$p" 2>/dev/null || true; done
  wait "$root" 2>/dev/null || rc=$?
  STOP_RC=$rc
}

# Runs COMMAND in the background with stdout to OUT and waits for it: bash runs a trap only once
# the foreground command is done, but interrupts `wait` at once, so SIGTERM stops the run promptly.
helper=""
in_background() {
  local out=$1 rc=0
  shift
  "$@" >"$out" &
  helper=$!
  wait "$helper" || rc=$?
  helper=""
  return "$rc"
}

cleanup() {
  local rc=$?
  if [[ -n $helper ]]; then kill -TERM "$helper" 2>/dev/null || true; fi
  for p in "${started[@]}"; do stop_tree "$p"; done
  started=()
  if [[ $rc == 0 && $status == 0 ]]; then rm -rf "$logs"; else echo "server logs kept in $logs" >&2; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Sum over PIDS of utime+stime+cutime+cstime (clock ticks); a process gone meanwhile counts 0.
cpu_ticks() {
  local p
  for p in "$@"; do cat "/proc/$p/stat" 2>/dev/null || true; done |
    sed 's/.*) //' | awk '{ t += $12 + $13 + $14 + $15 } END { print t + 0 }'
}

# Sum over PIDS of a kB field: sum_kb FILE_UNDER_PROC FIELD PIDS...
sum_kb() {
  local file=$1 key=$2 p
  shift 2
  for p in "$@"; do cat "/proc/$p/$file" 2>/dev/null || true; done |
    awk -v k="$key:" '$1 == k { t += $2 } END { print t + 0 }'
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Thousands separators for an integer.
group() { printf "%'d" "$1" 2>/dev/null || printf "%d" "$1"; }

# --- setup ----------------------------------------------------------------------------------------

if [[ " $CASES " == *" rust "* ]]; then
  bench_build_rust
fi
if [[ " $CASES " == *" py"* ]]; then
  want=$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)
  if [[ ! -x $VENV/bin/uvicorn || $(cat "$VENV/.requirements.sha256" 2>/dev/null) != "$want" ]]; then
    echo "== install the Python reference into $VENV (pip, $REQUIREMENTS)"
    command -v python3 >/dev/null || { echo "python3 (with venv) is required" >&2; exit 1; }
    [[ -x $VENV/bin/pip ]] || python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q -r "$REQUIREMENTS"
    echo "$want" >"$VENV/.requirements.sha256"
  fi
  if [[ ! -f $PY_MODEL ]]; then
    echo "== train the Python reference ($PY_MODEL missing)"
    "$VENV/bin/python" bench/python-reference/train.py --out "$REF"
  fi
fi

# --- one case -------------------------------------------------------------------------------------

rows=()
details=()

# run_case NAME PORT WORKERS -- COMMAND...: start, time to first answer, warm-up, load, measure, stop.
run_case() {
  local name=$1 port=$2 workers=$3
  shift 4
  local slug=${name//[^a-zA-Z0-9]/_}
  local log=$logs/$slug.log url=http://127.0.0.1:$port
  local start_ns pid ready all_ready="" pids_before pids_after cpu0 cpu1 out line
  local p
  for p in "$port" $((port + 1)); do
    if port_busy "$p"; then
      echo "port $p is in use: set BASE_PORT to a free range" >&2
      return 1
    fi
  done

  echo "== $name: start ($*)"
  start_ns=$(now_ns)
  "$@" >"$log" 2>&1 &
  pid=$!
  started+=("$pid")
  if in_background "$logs/$slug.ready" bench_wait_ready "$url/health/ready" "$pid" "$start_ns" "$READY_TIMEOUT" "$POLL"; then
    ready=$(cat "$logs/$slug.ready")
  else
    echo "$name: no 200 from /health/ready within ${READY_TIMEOUT} s, or it exited; log:" >&2
    tail -n 40 "$log" >&2
    return 1
  fi
  if ((workers > 1)); then
    # Every uvicorn worker logs this line once its application is up (model loaded).
    for _ in $(seq 1 $((READY_TIMEOUT * 10))); do
      (($(grep -c 'Application startup complete' "$log") >= workers)) && {
        all_ready=$((($(now_ns) - start_ns) / 1000000))
        break
      }
      sleep 0.1
    done
    [[ -n $all_ready ]] || { echo "$name: not all $workers workers started; log:" >&2; tail -n 40 "$log" >&2; return 1; }
  fi

  echo "== $name: ready after $ready ms${all_ready:+ (all $workers workers: $all_ready ms)}; warm-up ($WARMUP)"
  in_background /dev/null wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" --timeout "$TIMEOUT" \
    -s scripts/bench/predict.lua "$url/predict"

  echo "== $name: load (wrk -t$THREADS -c$CONNECTIONS -d$DURATION --timeout $TIMEOUT --latency)"
  mapfile -t pids_before < <(tree_pids "$pid")
  cpu0=$(cpu_ticks "${pids_before[@]}")
  in_background "$logs/$slug.wrk" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout "$TIMEOUT" \
    --latency -s scripts/bench/predict.lua "$url/predict"
  mapfile -t pids_after < <(tree_pids "$pid")
  cpu1=$(cpu_ticks "${pids_after[@]}")
  local rss pss
  rss=$(sum_kb status VmRSS "${pids_after[@]}")
  pss=$(sum_kb smaps_rollup Pss "${pids_after[@]}")
  out=$(cat "$logs/$slug.wrk")

  line=$(grep '^BENCH ' <<<"$out") || { echo "$name: no BENCH line from wrk:" >&2; echo "$out" >&2; return 1; }
  local requests rps p50 p99 non2xx sockerr secs
  requests=$(bench_field requests "$line")
  rps=$(bench_field rps "$line")
  p50=$(bench_field p50_ms "$line")
  p99=$(bench_field p99_ms "$line")
  non2xx=$(bench_field non_2xx "$line")
  sockerr=$(bench_field socket_errors "$line")
  secs=$(bench_field duration_s "$line")
  local cpu_ms_per_req cores
  cpu_ms_per_req=$(awk -v d=$((cpu1 - cpu0)) -v hz="$CLK_TCK" -v n="$requests" \
    'BEGIN { if (n > 0) printf "%.3f", d * 1000 / hz / n; else print "n/a" }')
  cores=$(awk -v d=$((cpu1 - cpu0)) -v hz="$CLK_TCK" -v s="$secs" 'BEGIN { printf "%.2f", d / hz / s }')

  local stop_rc names
  names=$(for p in "${pids_after[@]}"; do cat "/proc/$p/comm" 2>/dev/null || true; done | sort | uniq -c |
    awk '{ printf "%s%s x%d", (NR > 1 ? ", " : ""), $2, $1 }')
  stop_tree "$pid"
  stop_rc=$STOP_RC
  local p still=()
  for p in "${started[@]}"; do [[ $p == "$pid" ]] || still+=("$p"); done
  started=("${still[@]}")

  local ttfa
  ttfa="$(group "$ready") ms"
  [[ -z $all_ready ]] || ttfa+=" (all $workers: $(group "$all_ready") ms)"
  rows+=("| $name | ${#pids_after[@]} | $(group "$rps") | $p50 ms | $p99 ms | $non2xx | $sockerr | $cpu_ms_per_req ms | $cores | $(mib "$rss") MiB | $(mib "$pss") MiB | $ttfa |")
  details+=("$name: $(group "$requests") requests in $secs s; processes: $names; exit status after SIGTERM $stop_rc")
  echo "== $name: $(group "$rps") req/s, p50 $p50 ms, p99 $p99 ms, non-2xx $non2xx, socket errors $sockerr; CPU $cpu_ms_per_req ms/request ($cores cores busy); RSS $(mib "$rss") MiB, PSS $(mib "$pss") MiB in ${#pids_after[@]} processes; stopped ($stop_rc)"
  if [[ $non2xx != 0 || $sockerr != 0 ]]; then status=1; fi
}

# --- the run --------------------------------------------------------------------------------------

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
date_utc=$(date -u +%Y-%m-%dT%H:%MZ)
uvicorn_args=(--app-dir bench/python-reference --host 127.0.0.1)
[[ $PY_ACCESS_LOG != 0 ]] || uvicorn_args+=(--no-access-log)

for c in $CASES; do
  case $c in
    rust)
      run_case rust "$BASE_PORT" 1 -- env EMOTION_VARIANT=v1 EMOTION_HTTP_ADDR="127.0.0.1:$BASE_PORT" \
        EMOTION_METRICS_ADDR="127.0.0.1:$((BASE_PORT + 1))" EMOTION_MODEL_PATH="$RUST_MODEL" \
        EMOTION_RATE_LIMIT_RPS=0 EMOTION_INSTANCE_ID=bench RUST_LOG=warn "$RUST_BIN"
      ;;
    py1)
      run_case "python, 1 worker" $((BASE_PORT + 10)) 1 -- env EMOTION_REFERENCE_MODEL="$PY_MODEL" \
        "$VENV/bin/uvicorn" app:app "${uvicorn_args[@]}" --port $((BASE_PORT + 10))
      ;;
    pyN)
      run_case "python, $WORKERS workers" $((BASE_PORT + 20)) "$WORKERS" -- env EMOTION_REFERENCE_MODEL="$PY_MODEL" \
        "$VENV/bin/uvicorn" app:app "${uvicorn_args[@]}" --port $((BASE_PORT + 20)) --workers "$WORKERS"
      ;;
  esac
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
accuracy=""
if [[ -f $REF/metrics.json ]]; then
  accuracy=$(awk -F': ' '/"accuracy"/ { gsub(/,/, "", $2); print $2 }' "$REF/metrics.json")
fi
report=$(
  cat <<HEAD
date: $date_utc; machine: $(uname -n), $(nproc) cores${cpu_model:+ ($cpu_model)}, $(uname -sr)
load average (1/5/15 min): $load_start at the start, $load_end at the end
command: \`$command_line\`
load: \`wrk -t$THREADS -c$CONNECTIONS -d$DURATION --timeout $TIMEOUT --latency -s scripts/bench/predict.lua http://127.0.0.1:PORT/predict\` after a $WARMUP warm-up, one server at a time; wrk shares the cores with the server
python reference: FastAPI + scikit-learn pipeline (TF-IDF 5,000 features + logistic regression)${accuracy:+, held-out accuracy $accuracy}; uvicorn access log $([[ $PY_ACCESS_LOG != 0 ]] && echo on || echo off)

| case | processes | requests/s | p50 | p99 | non-2xx | socket errors | CPU per request | cores busy | RSS after load (Σ VmRSS) | PSS after load | time to first answer |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
HEAD
  printf '%s\n' "${rows[@]}"
  echo
  printf -- '- %s\n' "${details[@]}"
)

echo
echo "== result"
echo "$report"

if [[ -n $OUT ]]; then
  {
    echo
    echo "### $date_utc, $(uname -n) ($(nproc) cores), \`$command_line\`"
    echo
    echo "$report"
  } >>"$OUT"
  echo "(appended to $OUT)"
fi

if [[ $status != 0 ]]; then
  echo "some answers were not 2xx or failed (see the table); wrk output and server logs in $logs" >&2
fi
exit "$status"
