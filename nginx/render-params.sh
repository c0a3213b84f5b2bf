#!/bin/sh
# Writes the deployment parameters of the gateway into OUTDIR (the
# `params/` folder next to nginx.conf): upstream addresses, secret paths,
# rate limit, published HTTPS port and syslog target. Everything else in
# nginx/ is policy and identical in every deployment.
#
# Usage: render-params.sh OUTDIR
# Environment (defaults suit compose):
#   API_V1_SERVERS        "api-v1:8000"   space-separated host:port list
#   API_V2_SERVERS        "api-v2:8000"
#   UPSTREAM_RESOLVER     "127.0.0.11" (Docker's DNS) resolver address; when set,
#                         every server line gets `resolve`, so nginx follows
#                         replicas as they are recreated, added and removed
#                         (nginx >= 1.27.3). Empty: addresses fixed at load
#                         time (NixOS, where they are static).
#   UPSTREAM_MAX_FAILS    1      passive health check: failures ...
#   UPSTREAM_FAIL_TIMEOUT 3s     ... within this window skip a peer this long
#   RATE_LIMIT_RPS        10     per client IP, on /predict and /predict/batch
#   RATE_LIMIT_BURST      20     requests above the rate served at once
#   OPEN_RATE_LIMIT_RPS   50     per client IP, on every other route (health,
#   OPEN_RATE_LIMIT_BURST 100    OpenAPI, redirects, errors): loose enough
#                                for probes, tight enough for floods
#   CONN_LIMIT_PER_ADDR   64     open connections per client IP, every port
#   AB_V2_PERCENT         0      share (0-100) of users without an experiment
#                                header that the sticky split sends to v2
#                                (conf/ab-routing.conf); 0: the seed's routing
#   SHADOW_PERCENT        0      share (0-100) of the requests v1 serves that are
#                                mirrored to v2 for comparison (conf/shadow.conf)
#   SERVER_NAME           localhost  the host the port-80 redirect points at
#   HTTPS_PORT            443    published HTTPS port (for the 301 Location)
#   LISTEN_HTTP           80     what the servers listen on: [address:]port
#   LISTEN_HTTPS          443    the public HTTPS port: the TCP front (sites/tls-front.conf),
#                                which caps connections per address before TLS
#   TLS_SOCKET            "/run/nginx-gateway/tls.sock" the Unix socket between the
#                         front and the TLS server (compose: a tmpfs, fresh at
#                         every container start; NixOS: /run/nginx)
#   LISTEN_STATUS         8081   stub_status (keep it off public interfaces)
#   ACCESS_LOG_SYSLOG     "unix:/run/gateway-log/access.sock" the metrics feed to
#                         access-log-exporter: a Unix datagram socket in a
#                         volume both share (no name to resolve, so nginx
#                         starts while the exporter is down), or host:port
#                         for UDP (NixOS, loopback); empty: none
#   TLS_CERT, TLS_KEY     certificate and key paths
#   HTPASSWD              htpasswd path (must be readable by the workers)
#   WEB_ROOT              "/etc/nginx/gateway/www" the landing page's folder
#                         (nginx/www; conf/landing-page.conf): compose's mount
#                         of nginx/, or a store path under NixOS
#   NGINX_MODULES         auto   dynamic modules to load (space-separated .so paths);
#                         auto: what stream-module.sh prints, the stream module
#                         when ${NGINX_BIN:-nginx} has it as a dynamic module
#                         (Debian's packages), nothing when it is built in
#                         (official image, nixpkgs) or nginx is absent
#   NGINX_NOFILE          auto   descriptors each worker may open (worker_rlimit_nofile);
#                         auto: 40000, or this shell's hard limit (ulimit -Hn) when
#                         lower, since a worker cannot go above it and nginx logs
#                         an alert at every start when asked to (Docker's default
#                         hard limit can be lower: 20000 on the CI machine). The
#                         Nix module sets its unit's LimitNOFILE.
# POSIX sh only: it runs in the official nginx image, the offline image,
# on the host for `nginx -t`, and from Nix.
set -eu

out=${1:?usage: render-params.sh OUTDIR}
: "${API_V1_SERVERS:=api-v1:8000}"
: "${API_V2_SERVERS:=api-v2:8000}"
: "${UPSTREAM_RESOLVER=127.0.0.11}"
: "${UPSTREAM_MAX_FAILS:=1}"
: "${UPSTREAM_FAIL_TIMEOUT:=3s}"
: "${RATE_LIMIT_RPS:=10}"
: "${RATE_LIMIT_BURST:=20}"
: "${OPEN_RATE_LIMIT_RPS:=50}"
: "${OPEN_RATE_LIMIT_BURST:=100}"
: "${CONN_LIMIT_PER_ADDR:=64}"
: "${AB_V2_PERCENT:=0}"
: "${SHADOW_PERCENT:=0}"
: "${SERVER_NAME:=localhost}"
: "${HTTPS_PORT:=443}"
: "${LISTEN_HTTP:=80}"
: "${LISTEN_HTTPS:=443}"
: "${LISTEN_STATUS:=8081}"
: "${TLS_SOCKET:=/run/nginx-gateway/tls.sock}"
: "${NGINX_MODULES=auto}"
: "${NGINX_NOFILE=auto}"
: "${ACCESS_LOG_SYSLOG=unix:/run/gateway-log/access.sock}"
: "${TLS_CERT:=/run/secrets/tls.crt}"
: "${TLS_KEY:=/run/secrets/tls.key}"
: "${HTPASSWD:=/run/secrets/htpasswd}"
: "${WEB_ROOT:=/etc/nginx/gateway/www}"

die() { echo "render-params.sh: $*" >&2; exit 1; }
is_uint() { case "$1" in '' | *[!0-9]*) return 1 ;; *) return 0 ;; esac; }
is_uint "$RATE_LIMIT_RPS" && [ "$RATE_LIMIT_RPS" -gt 0 ] || die "RATE_LIMIT_RPS must be a positive integer, got '$RATE_LIMIT_RPS'"
is_uint "$RATE_LIMIT_BURST" || die "RATE_LIMIT_BURST must be a non-negative integer, got '$RATE_LIMIT_BURST'"
is_uint "$HTTPS_PORT" && [ "$HTTPS_PORT" -gt 0 ] && [ "$HTTPS_PORT" -lt 65536 ] || die "HTTPS_PORT must be a TCP port, got '$HTTPS_PORT'"
is_uint "$UPSTREAM_MAX_FAILS" || die "UPSTREAM_MAX_FAILS must be an integer, got '$UPSTREAM_MAX_FAILS'"
is_uint "$OPEN_RATE_LIMIT_RPS" && [ "$OPEN_RATE_LIMIT_RPS" -gt 0 ] || die "OPEN_RATE_LIMIT_RPS must be a positive integer, got '$OPEN_RATE_LIMIT_RPS'"
is_uint "$OPEN_RATE_LIMIT_BURST" || die "OPEN_RATE_LIMIT_BURST must be a non-negative integer, got '$OPEN_RATE_LIMIT_BURST'"
is_uint "$CONN_LIMIT_PER_ADDR" && [ "$CONN_LIMIT_PER_ADDR" -gt 0 ] && [ "$CONN_LIMIT_PER_ADDR" -lt 65536 ] || die "CONN_LIMIT_PER_ADDR must be an integer from 1 to 65535 (nginx's limit_conn), got '$CONN_LIMIT_PER_ADDR'"
is_uint "$AB_V2_PERCENT" && [ "$AB_V2_PERCENT" -le 100 ] || die "AB_V2_PERCENT must be an integer from 0 to 100, got '$AB_V2_PERCENT'"
is_uint "$SHADOW_PERCENT" && [ "$SHADOW_PERCENT" -le 100 ] || die "SHADOW_PERCENT must be an integer from 0 to 100, got '$SHADOW_PERCENT'"
case "$SERVER_NAME" in '' | *[!0-9A-Za-z.-]*) die "SERVER_NAME must be a host name, got '$SERVER_NAME'" ;; esac
# An absolute path of plain characters: it is written into nginx syntax unquoted.
case "$WEB_ROOT" in /*) ;; *) die "WEB_ROOT must be an absolute path, got '$WEB_ROOT'" ;; esac
case "$WEB_ROOT" in *[!0-9A-Za-z._/+-]*) die "WEB_ROOT must be a path of letters, digits and ._/+-, got '$WEB_ROOT'" ;; esac
case "$TLS_SOCKET" in /*) ;; *) die "TLS_SOCKET must be an absolute path, got '$TLS_SOCKET'" ;; esac
case "$TLS_SOCKET" in *[!0-9A-Za-z._/+-]*) die "TLS_SOCKET must be a path of letters, digits and ._/+-, got '$TLS_SOCKET'" ;; esac
case "$UPSTREAM_RESOLVER" in *[!0-9A-Za-z.:\[\]_\ -]*) die "UPSTREAM_RESOLVER must be resolver addresses, got '$UPSTREAM_RESOLVER'" ;; esac

if [ "$NGINX_MODULES" = auto ]; then
    NGINX_MODULES=$(sh "$(dirname "$0")/stream-module.sh")
fi
case "$NGINX_MODULES" in *[!0-9A-Za-z._/+\ -]*) die "NGINX_MODULES must be .so paths, got '$NGINX_MODULES'" ;; esac
if [ "$NGINX_NOFILE" = auto ]; then
    NGINX_NOFILE=40000
    # shellcheck disable=SC3045 # -H is not POSIX, but dash, bash and busybox sh have it; a shell without it keeps 40000
    hard=$(ulimit -Hn 2>/dev/null || true)
    if is_uint "$hard" && [ "$hard" -lt "$NGINX_NOFILE" ]; then NGINX_NOFILE=$hard; fi
fi
is_uint "$NGINX_NOFILE" && [ "$NGINX_NOFILE" -gt 0 ] || die "NGINX_NOFILE must be a positive integer or auto, got '$NGINX_NOFILE'"

mkdir -p "$out"

{
    echo "# Generated by render-params.sh; do not edit."
    # shellcheck disable=SC2086 # word splitting of the module list is wanted
    for m in $NGINX_MODULES; do echo "load_module $m;"; done
} >"$out/modules.conf"

{
    echo "# Generated by render-params.sh; do not edit."
    echo "worker_rlimit_nofile $NGINX_NOFILE;"
} >"$out/nofile.conf"

if [ -n "$UPSTREAM_RESOLVER" ]; then resolve=" resolve"; else resolve=""; fi
upstream() { # FILE SERVERS...
    file=$1; shift
    [ $# -gt 0 ] || die "no servers for $file"
    {
        echo "# Generated by render-params.sh; do not edit."
        for s in "$@"; do
            echo "server $s$resolve max_fails=$UPSTREAM_MAX_FAILS fail_timeout=$UPSTREAM_FAIL_TIMEOUT;"
        done
    } >"$out/$file"
}
{
    echo "# Generated by render-params.sh; do not edit."
    if [ -n "$UPSTREAM_RESOLVER" ]; then
        # valid=2s: a recreated or added replica is seen within 2 s; ipv6=off:
        # the backend networks are IPv4 only.
        echo "resolver $UPSTREAM_RESOLVER valid=2s ipv6=off;"
        echo "resolver_timeout 2s;"
    fi
} >"$out/resolver.conf"
# shellcheck disable=SC2086 # word splitting of the server lists is wanted
upstream upstream-api-v1.conf $API_V1_SERVERS
# shellcheck disable=SC2086
upstream upstream-api-v2.conf $API_V2_SERVERS

cat >"$out/rate-limit.conf" <<CONF
# Generated by render-params.sh; do not edit.
limit_req_zone \$predict_rate_limit_key zone=predict:10m rate=${RATE_LIMIT_RPS}r/s;
limit_req zone=predict burst=${RATE_LIMIT_BURST} nodelay;
limit_req_zone \$open_rate_limit_key zone=open:10m rate=${OPEN_RATE_LIMIT_RPS}r/s;
limit_req zone=open burst=${OPEN_RATE_LIMIT_BURST} nodelay;
limit_conn per_addr ${CONN_LIMIT_PER_ADDR};
CONF

# v2 takes the first range of the hash space, so raising the weight only
# moves users from v1 to v2 (conf/ab-routing.conf (6)).
case "$AB_V2_PERCENT" in
    0) arms="    *    v1;" on=0 ;;
    100) arms="    *    v2;" on=1 ;;
    *) arms="    ${AB_V2_PERCENT}%  v2;
    *    v1;" on=1 ;;
esac
case "$SHADOW_PERCENT" in
    0) shadow_arms="    *    0;" ;;
    100) shadow_arms="    *    1;" ;;
    *) shadow_arms="    ${SHADOW_PERCENT}%  1;
    *    0;" ;;
esac
cat >"$out/ab-split.conf" <<CONF
# Generated by render-params.sh; do not edit.
split_clients "\$ab_identity" \$ab_split {
$arms
}
map "" \$ab_split_on {
    default $on;
}
split_clients "\$request_id" \$shadow_sample {
$shadow_arms
}
CONF
{
    echo "# Generated by render-params.sh; do not edit."
    [ "$SHADOW_PERCENT" = 0 ] || echo "mirror /_shadow;"
} >"$out/shadow-mirror.conf"
{
    echo "# Generated by render-params.sh; do not edit."
    if [ -n "$ACCESS_LOG_SYSLOG" ]; then
        echo "access_log syslog:server=$ACCESS_LOG_SYSLOG,tag=gateway gateway_metrics if=\$shadowed;"
    else
        echo "access_log off;"
    fi
} >"$out/shadow-log.conf"

if [ "$HTTPS_PORT" = 443 ]; then suffix=""; else suffix=":$HTTPS_PORT"; fi
cat >"$out/ports.conf" <<CONF
# Generated by render-params.sh; do not edit.
map "" \$https_port_suffix {
    default "$suffix";
}
map "" \$gateway_host {
    default "$SERVER_NAME";
}
CONF

for pair in "http:$LISTEN_HTTP" "https:$LISTEN_HTTPS" "status:$LISTEN_STATUS"; do
    name=${pair%%:*}
    addr=${pair#*:}
    case "$addr" in '' | *[!0-9A-Za-z.:\[\]_-]*) die "LISTEN_$name: '$addr' is not [address:]port" ;; esac
    case $name in
        http) flags=" default_server" ;;
        https | status) flags="" ;;
    esac
    printf '# Generated by render-params.sh; do not edit.\nlisten %s%s;\n' "$addr" "$flags" >"$out/listen-$name.conf"
done

# The TLS server behind the front: PROXY protocol carries the client's address.
printf '# Generated by render-params.sh; do not edit.\nlisten unix:%s ssl proxy_protocol default_server;\n' \
    "$TLS_SOCKET" >"$out/listen-tls.conf"
cat >"$out/tls-front.conf" <<CONF
# Generated by render-params.sh; do not edit.
limit_conn front_per_addr ${CONN_LIMIT_PER_ADDR};
proxy_pass unix:${TLS_SOCKET};
CONF

cat >"$out/secrets.conf" <<CONF
# Generated by render-params.sh; do not edit.
ssl_certificate $TLS_CERT;
ssl_certificate_key $TLS_KEY;
auth_basic_user_file $HTPASSWD;
CONF

{
    echo "# Generated by render-params.sh; do not edit."
    if [ -n "$ACCESS_LOG_SYSLOG" ]; then
        echo "access_log syslog:server=$ACCESS_LOG_SYSLOG,tag=gateway gateway_metrics;"
    fi
} >"$out/logging.conf"

cat >"$out/web-root.conf" <<CONF
# Generated by render-params.sh; do not edit.
root $WEB_ROOT;
CONF
