#!/bin/sh
# Prints the path of nginx's stream module (the gateway's TCP front,
# sites/tls-front.conf) when the nginx at ${NGINX_BIN:-nginx} has it as a
# dynamic module, which then needs a `load_module` line (Debian's packages
# build it so, in libnginx-mod-stream); prints nothing when the module is
# built in (the official image, nixpkgs) or there is no such nginx.
# The one reading of `nginx -V` for it: render-params.sh (NGINX_MODULES=auto)
# and scripts/prerequisites.sh (is Debian's package installed?) call this.
# POSIX sh: it runs in the nginx images too.
set -eu

build=$("${NGINX_BIN:-nginx}" -V 2>&1) || exit 0
case "$build" in *--with-stream=dynamic*) ;; *) exit 0 ;; esac
dir=$(printf '%s\n' "$build" | sed -n 's/.*--modules-path=\([^ ]*\).*/\1/p')
if [ -z "$dir" ]; then
    # Without --modules-path, nginx looks in PREFIX/modules.
    prefix=$(printf '%s\n' "$build" | sed -n 's/.*--prefix=\([^ ]*\).*/\1/p')
    dir=${prefix:-/usr/local/nginx}/modules
fi
echo "$dir/ngx_stream_module.so"
