# shellcheck shell=bash
# Helpers shared by the benchmark scripts (scripts/bench/replica.sh, bench/compare.sh). Sourced, not
# run; the caller is at the repository root with `set -euo pipefail`.

# Fails unless wrk and curl are installed.
bench_require_tools() {
  command -v wrk >/dev/null || { echo "wrk is required (apt-get install wrk)" >&2; return 1; }
  command -v curl >/dev/null || { echo "curl is required" >&2; return 1; }
}

# Release build of emotion-api, and the models in model/ through scripts/train.sh (the one place
# the training command is written), trained if missing or of a format this build cannot load.
bench_build_rust() {
  echo "== build (release)"
  cargo build --release --quiet -p emotion-api
  scripts/train.sh --if-missing
}

# kB -> MiB with one decimal.
mib() { awk -v kb="$1" 'BEGIN { printf "%.1f", kb / 1024 }'; }

# One field (in kB) of /proc/PID/status: status_kb PID VmRSS.
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

# Nanoseconds since the epoch.
now_ns() { date +%s%N; }

# Polls URL until it answers 200 and prints the milliseconds since START_NS; every INTERVAL seconds
# (default 0.002), for at most TIMEOUT seconds (default 10). Returns 1 if PID exits first, 2 on timeout.
#   ready_ms=$(bench_wait_ready URL PID START_NS [TIMEOUT] [INTERVAL])
bench_wait_ready() {
  local url=$1 pid=$2 start_ns=$3 timeout=${4:-10} interval=${5:-0.002}
  local deadline=$(($(now_ns) + timeout * 1000000000))
  while (($(now_ns) < deadline)); do
    if curl -fs -o /dev/null "$url" 2>/dev/null; then
      echo $((($(now_ns) - start_ns) / 1000000))
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || return 1
    sleep "$interval"
  done
  return 2
}

# The value of KEY in a `BENCH key=value ...` line (printed by predict.lua's done()).
#   bench_field KEY "$line"
bench_field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }
