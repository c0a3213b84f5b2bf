#!/usr/bin/env bash
# Generates the gateway's self-signed TLS certificate for localhost
# (SAN: DNS localhost, IP 127.0.0.1) into secrets/, unless one exists.
# Never committed (.gitignore: /secrets/, *.crt, *.key).
#
# The certificate is its own trust anchor: clients pass secrets/tls.crt as
# the CA file (curl --cacert, the e2e suite's --cacert). For that it carries
# CA:TRUE and keyCertSign besides serverAuth, which strict verifiers
# (Python >= 3.13, OpenSSL X509_STRICT) require of a self-signed anchor.
#
# Usage: scripts/certs.sh [SECRETS_DIR]   (FORCE=1 to regenerate)
set -euo pipefail

dir=${1:-secrets}
days=${CERT_DAYS:-825}
umask 077
mkdir -p "$dir"
chmod 700 "$dir"

if [[ -s $dir/tls.crt && -s $dir/tls.key && ${FORCE:-0} != 1 ]]; then
    echo "certs: keeping existing $dir/tls.crt (FORCE=1 to regenerate)"
    exit 0
fi

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$dir/tls.key.tmp" -out "$dir/tls.crt.tmp" -days "$days" \
    -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,digitalSignature,keyCertSign" \
    -addext "extendedKeyUsage=serverAuth" 2>/dev/null
chmod 600 "$dir/tls.key.tmp" "$dir/tls.crt.tmp"
mv "$dir/tls.key.tmp" "$dir/tls.key"
mv "$dir/tls.crt.tmp" "$dir/tls.crt"
echo "certs: wrote $dir/tls.crt (valid $days days, SAN localhost, 127.0.0.1)"
