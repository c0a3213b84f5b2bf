#!/usr/bin/env bash
# `nginx -t` of the gateway configuration, exactly as deployed except for
# certificate and secret paths, with both kinds of parameters:
#   1. NixOS-style (static upstream addresses, loopback syslog) with the
#      nginx on PATH ($NGINX_BIN): Debian 12's 1.22 here, the oldest the
#      policy files support;
#   2. compose-style (`server api-v1:8000 resolve`, Docker's resolver, the
#      Unix-socket metrics feed) inside the stack's nginx image, which is
#      where those parameters run (nginx >= 1.27.3). Skipped with a note
#      when no such image exists locally (`make images-offline` builds it).
# Proves the files parse on those versions without starting anything.
#
# Usage: scripts/nginx-test.sh      (NGINX_BIN=/path/to/nginx to pick a binary)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
nginx_bin=${NGINX_BIN:-nginx}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The tree nginx.conf expects, nginx.conf, gateway/ and params/, as copies
# so that it can be mounted into a container too.
tree() { # DIR SECRETS_DIR_AS_SEEN_BY_NGINX
    mkdir -p "$1"
    cp "$root/nginx/nginx.conf" "$1/nginx.conf"
    cp -r "$root/nginx" "$1/gateway"
    "$root/scripts/certs.sh" "$1/secrets" >/dev/null
    printf 'test:{PLAIN}test\n' >"$1/secrets/htpasswd"
    chmod -R a+rX "$1"
}

echo "==> NixOS-style parameters (static addresses) with $("$nginx_bin" -v 2>&1)"
tree "$tmp/static"
API_V1_SERVERS="127.0.0.1:18001 127.0.0.1:18002 127.0.0.1:18003" \
    API_V2_SERVERS="127.0.0.1:18004" UPSTREAM_RESOLVER="" \
    ACCESS_LOG_SYSLOG="127.0.0.1:5514" HTTPS_PORT=8443 \
    TLS_CERT="$tmp/static/secrets/tls.crt" TLS_KEY="$tmp/static/secrets/tls.key" \
    HTPASSWD="$tmp/static/secrets/htpasswd" TLS_SOCKET="$tmp/static/tls.sock" NGINX_BIN="$nginx_bin" \
    "$root/nginx/render-params.sh" "$tmp/static/params"
"$nginx_bin" -t -q -p "$tmp/static" -c "$tmp/static/nginx.conf"
echo "nginx -t: configuration OK"

# shellcheck source=scripts/stack-env.sh
source "$root/scripts/stack-env.sh"
image=${NGINX_IMAGE:-$(official_images | head -1)}
if ! docker image inspect "$image" >/dev/null 2>&1; then
    echo "==> compose-style parameters: SKIPPED, image $image not built yet"
    exit 0
fi
echo "==> compose-style parameters (resolve, unix syslog) in $image"
tree "$tmp/compose"
# Rendered in the image, as its start hook does: which modules to load depends on its nginx.
docker run --rm --network none -v "$tmp/compose:/t" --entrypoint sh "$image" -c '
    nginx -v &&
    TLS_CERT=/t/secrets/tls.crt TLS_KEY=/t/secrets/tls.key HTPASSWD=/t/secrets/htpasswd TLS_SOCKET=/tmp/tls.sock \
        sh /t/gateway/render-params.sh /t/params &&
    nginx -t -q -p /t -c /t/nginx.conf'
echo "nginx -t: configuration OK"
