#!/bin/sh
# Start hook of the nginx container, run by /docker-entrypoint.sh (the
# official image's, or the offline image's copy of it) before nginx starts.
#
# (1) Secrets stay mode 600 on the host. They are bind-mounted read-only at
#     /run/secrets: the master process runs as root and reads the TLS key
#     there itself. The htpasswd file, however, is opened by the *workers*
#     at every request, and they run unprivileged (`nginx` in the official
#     image, `nobody` in Debian's build) so they cannot read a mode 600 file
#     owned by the host user. Making the host file world- or group-readable
#     would leak it to every local user, so instead the hook copies it into
#     a tmpfs (compose: /etc/nginx/params, never on disk, never in an image
#     layer) owned by the worker user with mode 400. Only root and the worker
#     can read the copy; the host file keeps its mode.
# (2) The worker user is the compiled-in default (nginx.conf has no `user`
#     line); `nginx -V` shows it as --user=..., and builds without that flag
#     use `nobody`.
# (3) render-params.sh writes the deployment parameters (upstreams, rate,
#     ports, secret paths) from the container's environment, so compose
#     changes them with environment variables and no file edits; its
#     defaults are the only ones.
# (4) GATEWAY_PARAMS_DIR renders into another folder: scripts/reload-gateway.sh
#     checks new parameters in a scratch tree before it touches the live one.
set -eu

params=${GATEWAY_PARAMS_DIR:-/etc/nginx/params}
secrets=/run/secrets

worker_user=$(nginx -V 2>&1 | sed -n 's/.*--user=\([^ ]*\).*/\1/p')
worker_user=${worker_user:-nobody}

install -m 0400 -o "$worker_user" "$secrets/htpasswd" "$params/htpasswd"

TLS_CERT="$secrets/tls.crt" TLS_KEY="$secrets/tls.key" HTPASSWD="$params/htpasswd" \
    /etc/nginx/gateway/render-params.sh "$params"

echo "40-gateway.sh: params rendered in $params; htpasswd copy owned by $worker_user; limits:"
grep -h '^limit_' "$params/rate-limit.conf" | sed 's/^/  /'
