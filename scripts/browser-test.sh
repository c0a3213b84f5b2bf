#!/usr/bin/env bash
# Runs tests/browser/run.py (headless Chromium + Selenium) against the local
# compose stack's landing page, with what only this deployment knows: the
# HTTPS port, the certificate and the credentials in secrets/ (the burst
# that must hit the rate limit follows the gateway's parameters by itself:
# tests/e2e/cli.py). Extra arguments go to run.py. `make test-browser` runs it through on-stack.sh,
# and `make test` right after the e2e suite, on the same stack.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

source scripts/stack-env.sh

exec python3 tests/browser/run.py \
    --base-url "$(gateway_url)" \
    --cacert secrets/tls.crt \
    --credentials-file secrets/credentials.env \
    "$@"
