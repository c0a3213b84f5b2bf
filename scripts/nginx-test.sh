#!/usr/bin/env bash
# Runs `nginx -t` on the gateway configuration with the nginx found on PATH
# (or $NGINX_BIN; not $NGINX, which nginx itself reads), exactly as deployed except that upstream hosts are local
# addresses (container names do not resolve on the host). Proves the files
# parse on that nginx version without starting anything.
#
# Usage: scripts/nginx-test.sh      (NGINX_BIN=/path/to/nginx to pick a binary)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
nginx_bin=${NGINX_BIN:-nginx}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The tree nginx.conf expects: nginx.conf, gateway/, params/.
ln -s "$root/nginx/nginx.conf" "$tmp/nginx.conf"
ln -s "$root/nginx" "$tmp/gateway"
"$root/scripts/certs.sh" "$tmp/secrets" >/dev/null
printf 'test:{PLAIN}test\n' >"$tmp/secrets/htpasswd"
API_V1_SERVERS="127.0.0.1:18001 127.0.0.1:18002 127.0.0.1:18003" \
    API_V2_SERVERS="127.0.0.1:18004" \
    ACCESS_LOG_SYSLOG="127.0.0.1:5514" HTTPS_PORT=8443 \
    TLS_CERT="$tmp/secrets/tls.crt" TLS_KEY="$tmp/secrets/tls.key" HTPASSWD="$tmp/secrets/htpasswd" \
    "$root/nginx/render-params.sh" "$tmp/params"

"$nginx_bin" -v
"$nginx_bin" -t -q -p "$tmp" -c "$tmp/nginx.conf"
echo "nginx -t: configuration OK"
