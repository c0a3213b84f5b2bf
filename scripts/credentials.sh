#!/usr/bin/env bash
# Creates the basic-auth credentials of /predict unless they exist:
#   secrets/credentials.env  GATEWAY_USER / GATEWAY_PASSWORD (for humans, tests)
#   secrets/htpasswd         what nginx reads
# and, the same way, secrets/grafana.env (Grafana's admin) and
# secrets/feedback.env (the key of the feedback receipts, see below).
# All mode 600 in a mode 700 folder, gitignored. No default password
# ships: GATEWAY_USER / GATEWAY_PASSWORD from the environment are used when
# set, otherwise a random 24-byte password is generated.
#
# The hash is salted SHA-1 in nginx's own `{SSHA}` scheme, not a slow one.
# nginx verifies the hash on EVERY request, in the worker, synchronously:
# SHA-512 crypt (5,000 rounds) capped the gateway at about 160 authenticated
# requests/s on 2 cores (tests/resilience/RESULTS.md), bcrypt is worse. A
# slow hash only protects low-entropy passwords against offline guessing;
# the generated password has 192 random bits, and a supplied one must have
# at least 20 characters (GATEWAY_PASSWORD_MIN), so guessing is hopeless
# either way and the fast hash costs nothing in safety. Online guessing is
# bounded by the rate limit on /predict.
#
# Usage: scripts/credentials.sh [SECRETS_DIR]   (FORCE=1 to regenerate)
set -euo pipefail

dir=${1:-secrets}
umask 077
mkdir -p "$dir"
chmod 700 "$dir"

gateway_credentials() {
user=${GATEWAY_USER:-gateway}
password=${GATEWAY_PASSWORD:-$(openssl rand -base64 24 | tr '+/' '-_')}
if [[ $user == *:* || -z $user ]]; then
    echo "credentials: GATEWAY_USER must be non-empty and contain no ':'" >&2
    exit 1
fi

min=${GATEWAY_PASSWORD_MIN:-20}
if (( ${#password} < min )); then
    echo "credentials: GATEWAY_PASSWORD must have at least $min characters (the gateway hashes it with a fast salted hash, see the header of $0)" >&2
    exit 1
fi

# {SSHA}: base64(sha1(password + salt) + salt), 8-byte random salt. The
# password travels on stdin, never on a command line.
hash=$(printf '%s' "$password" | python3 -c '
import base64, hashlib, os, sys
password = sys.stdin.buffer.read()
salt = os.urandom(8)
print("{SSHA}" + base64.b64encode(hashlib.sha1(password + salt).digest() + salt).decode())')
printf '%s:%s\n' "$user" "$hash" >"$dir/htpasswd.tmp"
printf 'GATEWAY_USER=%s\nGATEWAY_PASSWORD=%s\n' "$user" "$password" >"$dir/credentials.env.tmp"
chmod 600 "$dir/htpasswd.tmp" "$dir/credentials.env.tmp"
mv "$dir/htpasswd.tmp" "$dir/htpasswd"
mv "$dir/credentials.env.tmp" "$dir/credentials.env"
echo "credentials: wrote $dir/credentials.env and $dir/htpasswd (mode 600)"
}

if [[ -s $dir/credentials.env && -s $dir/htpasswd && ${FORCE:-0} != 1 && -z ${GATEWAY_PASSWORD:-} ]]; then
    if grep -q ':{SSHA}' "$dir/htpasswd"; then
        echo "credentials: keeping existing $dir/credentials.env"
    else
        # Written by an older version with a slow hash: same password, new hash.
        echo "credentials: re-hashing $dir/htpasswd with {SSHA} (password unchanged)"
        set -a; . "$dir/credentials.env"; set +a
        gateway_credentials
    fi
else
    gateway_credentials
fi

# Grafana's admin password, same rules (official path only; compose reads
# it as an env_file so it never appears in compose.yaml or the shell).
if [[ ! -s $dir/grafana.env || ${FORCE:-0} == 1 ]]; then
    gpass=${GRAFANA_ADMIN_PASSWORD:-$(openssl rand -base64 18 | tr '+/' '-_')}
    printf 'GF_SECURITY_ADMIN_USER=admin\nGF_SECURITY_ADMIN_PASSWORD=%s\n' "$gpass" >"$dir/grafana.env.tmp"
    chmod 600 "$dir/grafana.env.tmp"
    mv "$dir/grafana.env.tmp" "$dir/grafana.env"
    echo "credentials: wrote $dir/grafana.env (Grafana admin, mode 600)"
fi

# The key of the feedback receipts: 32 random bytes as hex, which every API
# replica needs, so that any of them can check a receipt another one issued
# (crates/emotion-api/src/receipt.rs). An env file, as for Grafana: the API
# containers run as an unprivileged user that cannot read a mode-600 file of
# the host's, and compose (without swarm) cannot change a mounted file's
# owner; the value is then visible to `docker inspect`, that is to root and
# the docker group only (README.md, "Feedback"). FORCE=1 rotates it, which
# makes every receipt issued before invalid (422 invalid_receipt).
if [[ ! -s $dir/feedback.env || ${FORCE:-0} == 1 ]]; then
    printf 'EMOTION_FEEDBACK_KEY=%s\n' "$(openssl rand -hex 32)" >"$dir/feedback.env.tmp"
    chmod 600 "$dir/feedback.env.tmp"
    mv "$dir/feedback.env.tmp" "$dir/feedback.env"
    echo "credentials: wrote $dir/feedback.env (feedback receipt key, mode 600)"
fi
