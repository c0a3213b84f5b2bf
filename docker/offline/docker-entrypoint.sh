#!/bin/sh
# The offline nginx image's entrypoint: the part of the official image's
# /docker-entrypoint.sh that this project relies on. When the command is
# nginx, run the executable *.sh hooks in /docker-entrypoint.d/ in order,
# then exec the command (so nginx is PID 1 and gets the stop signal).
set -eu
if [ "${1:-}" = nginx ] || [ "${1:-}" = nginx-debug ]; then
    for hook in /docker-entrypoint.d/*.sh; do
        [ -e "$hook" ] || continue
        if [ -x "$hook" ]; then
            echo "$0: running $hook"
            "$hook"
        else
            echo "$0: ignoring $hook, not executable"
        fi
    done
fi
exec "$@"
