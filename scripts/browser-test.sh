#!/usr/bin/env bash
# Runs tests/browser/run.py (headless Chromium + Selenium) against the local
# compose stack's landing page, with what only this deployment knows: the
# HTTPS port, the certificate and the credentials in secrets/, and the rate
# limit (its burst must exceed the limit; the pause lets it refill). Extra
# arguments go to run.py. `make test-browser` runs it through on-stack.sh,
# and `make test` right after the e2e suite, on the same stack.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

https_port=${HTTPS_PORT:-443}
rps=${RATE_LIMIT_RPS:-10}
burst=${RATE_LIMIT_BURST:-20}

exec python3 tests/browser/run.py \
    --base-url "https://localhost$([[ $https_port == 443 ]] || echo ":$https_port")" \
    --cacert secrets/tls.crt \
    --credentials-file secrets/credentials.env \
    --burst "${BROWSER_BURST:-$(( 2 * (burst + rps) ))}" \
    --rate-limit-pause "$(( burst / rps + 1 ))" \
    "$@"
