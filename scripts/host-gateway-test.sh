#!/usr/bin/env bash
# `make test-host-nginx`: the gateway configuration on the HOST's nginx (on
# Debian 12 that is 1.22, the oldest version we test) in front of real
# emotion-api processes on loopback (3 x v1, 1 x v2), then the e2e suite
# against it. No containers; everything listens on 127.0.0.1 only and is
# stopped by PID at the end. Needs root (nginx master switches to its
# worker user) and a trained model (make train).
#
# Ports (loopback), from a base B (HOST_TEST_PORT_BASE, default: the first
# of 18000, 21000, ... whose ports are all free): HTTP B+80, HTTPS B+443,
# status B+81, APIs B+1..B+4, API metrics B+1001..B+1004. The suite talks
# to 127.0.0.1 (a SAN of the certificate), not `localhost`, which may
# resolve to ::1 where something else can listen on the same port.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
nginx_bin=${NGINX_BIN:-nginx}

ports_free() { # BASE: can every port we need be bound on 127.0.0.1 and ::1?
    python3 - "$1" <<'PY'
import socket, sys
b = int(sys.argv[1])
for port in [b + o for o in (1, 2, 3, 4, 80, 81, 443, 1001, 1002, 1003, 1004)]:
    for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        try:
            with socket.socket(family, socket.SOCK_STREAM) as s:
                s.bind((host, port))
        except OSError as exc:
            if family == socket.AF_INET6 and exc.errno in (97, 99):  # no IPv6 here
                continue
            sys.exit(1)
PY
}
if [[ -n ${HOST_TEST_PORT_BASE:-} ]]; then
    base=$HOST_TEST_PORT_BASE
else
    base=""
    for candidate in 18000 21000 24000 27000 30000 33000; do
        if ports_free "$candidate"; then base=$candidate; break; fi
    done
    [[ -n $base ]] || { echo "no free port range for the host test" >&2; exit 1; }
fi
echo "host test: ports from $base"

[[ -s model/emotion-model.bin ]] || { echo "model/emotion-model.bin missing: run make train" >&2; exit 1; }
scripts/certs.sh secrets >/dev/null
scripts/credentials.sh secrets >/dev/null
cargo build --release --locked -p emotion-api
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')

work=$(mktemp -d /tmp/egw-host.XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# The APIs: real binaries, real model, and the receipt key of
# secrets/feedback.env, as compose gives it, so that the suite's feedback
# check has receipts. Exported rather than put on a command line: the APIs,
# and the one the failover hook restarts, inherit it.
EMOTION_FEEDBACK_KEY=$(sed -n 's/^EMOTION_FEEDBACK_KEY=//p' secrets/feedback.env)
export EMOTION_FEEDBACK_KEY
v1=()
for i in 1 2 3 4; do
    variant=$([[ $i == 4 ]] && echo v2 || echo v1)
    EMOTION_VARIANT=$variant EMOTION_HTTP_ADDR=127.0.0.1:$((base + i)) \
        EMOTION_METRICS_ADDR=127.0.0.1:$((base + 1000 + i)) EMOTION_INSTANCE_ID=host-$variant-$i \
        EMOTION_MODEL_PATH=model/emotion-model.bin EMOTION_TRUSTED_PROXIES=127.0.0.1/32 RUST_LOG=warn \
        "$target_dir/release/emotion-api" >"$work/api-$i.log" 2>&1 &
    pids+=($!)
    [[ $variant == v1 ]] && v1+=("127.0.0.1:$((base + i))")
done

# The tree nginx.conf expects (nginx/README.md), with our own pid file.
chmod 755 "$work"
sed "s#^pid .*#pid $work/nginx.pid;#" nginx/nginx.conf >"$work/nginx.conf"
ln -s "$root/nginx" "$work/gateway"
mkdir -m 755 "$work/params"
worker_user=$("$nginx_bin" -V 2>&1 | sed -n 's/.*--user=\([^ ]*\).*/\1/p')
install -m 0400 -o "${worker_user:-nobody}" secrets/htpasswd "$work/params/htpasswd"
# The landing page, copied like the htpasswd file: the checkout's folders
# need not be readable by the worker user.
cp -r nginx/www "$work/www" && chmod -R a+rX "$work/www"
API_V1_SERVERS="${v1[*]}" API_V2_SERVERS="127.0.0.1:$((base + 4))" ACCESS_LOG_SYSLOG="" UPSTREAM_RESOLVER="" \
    SERVER_NAME=127.0.0.1 \
    LISTEN_HTTP=127.0.0.1:$((base + 80)) LISTEN_HTTPS=127.0.0.1:$((base + 443)) LISTEN_STATUS=127.0.0.1:$((base + 81)) \
    HTTPS_PORT=$((base + 443)) TLS_CERT="$root/secrets/tls.crt" TLS_KEY="$root/secrets/tls.key" \
    HTPASSWD="$work/params/htpasswd" WEB_ROOT="$work/www" nginx/render-params.sh "$work/params"

for i in 1 2 3 4; do
    ready=0
    for _ in $(seq 300); do
        curl -fsS -o /dev/null "http://127.0.0.1:$((base + i))/health/ready" 2>/dev/null && { ready=1; break; }
        sleep 0.2
    done
    [[ $ready == 1 ]] || { echo "API $i not ready after 60 s:" >&2; tail -20 "$work/api-$i.log" >&2; exit 1; }
done

"$nginx_bin" -v
"$nginx_bin" -t -q -p "$work" -c "$work/nginx.conf"
"$nginx_bin" -p "$work" -c "$work/nginx.conf" -g 'daemon off;' >"$work/nginx-access.log" 2>"$work/nginx-error.log" &
pids+=($!)
for _ in $(seq 50); do
    curl -fsS -o /dev/null "http://127.0.0.1:$((base + 81))/stub_status" 2>/dev/null && break
    sleep 0.2
done

# Failover hooks: stop / restart the first v1 process (by its PID).
victim_env="EMOTION_VARIANT=v1 EMOTION_HTTP_ADDR=127.0.0.1:$((base + 1)) EMOTION_METRICS_ADDR=127.0.0.1:$((base + 1001)) EMOTION_INSTANCE_ID=host-v1-1 EMOTION_MODEL_PATH=model/emotion-model.bin EMOTION_TRUSTED_PROXIES=127.0.0.1/32 RUST_LOG=warn"
echo "${pids[0]}" >"$work/victim.pid"
stop_cmd="kill \$(cat $work/victim.pid)"
start_cmd="env $victim_env $target_dir/release/emotion-api >>$work/api-1.log 2>&1 & echo \$! >$work/victim.pid;
for i in \$(seq 300); do curl -fsS -o /dev/null http://127.0.0.1:$((base + 1))/health/ready 2>/dev/null && exit 0; sleep 0.2; done; exit 1"

status=0
python3 tests/e2e/run.py \
    --base-url "https://127.0.0.1:$((base + 443))" --http-url "http://127.0.0.1:$((base + 80))" \
    --cacert secrets/tls.crt --credentials-file secrets/credentials.env \
    --stop-replica-cmd "$stop_cmd" --start-replica-cmd "$start_cmd" "$@" || status=$?
# The restarted victim is not in pids[]; stop it by the PID it wrote.
kill "$(cat "$work/victim.pid")" 2>/dev/null || true
[[ $status == 0 ]] || { echo "--- nginx error log"; tail -20 "$work/nginx-error.log"; }
exit $status
