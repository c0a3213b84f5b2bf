#!/usr/bin/env bash
# `make test`: the static checks, then the e2e suite against the real stack.
#   1. cargo fmt --check, clippy -D warnings, cargo test (whole workspace)
#   2. nginx -t of the gateway config with the host's nginx; promtool check
#      config, check rules and test rules (monitoring/check.sh)
#   3. the e2e suite on the host nginx with real APIs (no containers)
#   4. tests/e2e/run.py through scripts/e2e.sh on the compose stack, via
#      scripts/on-stack.sh: reused when already up and healthy, otherwise
#      started (offline images where there is no registry) and torn down
#      again at the end, whatever the outcome
#   5. on the same stack, the landing page in headless Chromium
#      (scripts/browser-test.sh): last, because its rate-limit burst leaves
#      this address limited for a moment; run even when step 4 failed
# STATIC_ONLY=1 stops after step 2; E2E_ONLY=1 skips step 1; SKIP_BROWSER=1
# skips step 5.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

step() { printf '\n==> %s\n' "$*"; }

if [[ ${STATIC_ONLY:-0} != 1 ]]; then
    step "prerequisites"
    scripts/prerequisites.sh test
fi

if [[ ${E2E_ONLY:-0} != 1 ]]; then
    step "cargo fmt --check"
    cargo fmt --all -- --check
    step "cargo clippy --workspace --all-targets -- -D warnings"
    cargo clippy --workspace --all-targets -- -D warnings
    step "cargo test --workspace"
    cargo test --workspace
fi

step "nginx -t (host nginx)"
scripts/nginx-test.sh
step "promtool: config, rules and rule unit tests"
monitoring/check.sh
step "lint: shellcheck and ruff"
scripts/lint.sh
step ".env.example lists every setting with the code's default"
python3 tests/static/env_example.py
[[ ${STATIC_ONLY:-0} == 1 ]] && exit 0

step "models (trained if missing)"
scripts/train.sh --if-missing
if [[ ${SKIP_HOST_NGINX:-0} != 1 ]]; then
    step "e2e suite on the host nginx (no containers)"
    scripts/host-gateway-test.sh
fi

if [[ ${SKIP_BROWSER:-0} == 1 ]]; then
    step "e2e suite on the compose stack"
    scripts/on-stack.sh scripts/e2e.sh
else
    step "e2e suite, then the browser test, on the compose stack"
    # One on-stack.sh call, so both run on one stack before any teardown.
    # shellcheck disable=SC2016 # expanded by the inner shell
    scripts/on-stack.sh bash -c 'status=0
        scripts/e2e.sh || status=$?
        echo; echo "==> browser test of the landing page (tests/browser)"
        scripts/browser-test.sh || status=$?
        exit "$status"'
fi
