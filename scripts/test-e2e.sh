#!/usr/bin/env bash
# `make test-e2e`: the end-to-end suite (tests/e2e) on real services.
#   1. the models (trained if missing or unreadable by this build)
#   2. the suite, monitoring checks included, on the same topology as host
#      processes on loopback (tests/harness/loopback.py, no containers)
#   3. the suite on the compose stack through scripts/e2e.sh, via
#      scripts/on-stack.sh: reused when already up and healthy, otherwise
#      started (offline images where there is no registry) and torn down
#      again at the end, whatever the outcome
#   4. on the same stack, the landing page and /docs in headless Chromium
#      (scripts/browser-test.sh): last, because its rate-limit burst leaves
#      this address limited for a moment; run even when step 3 failed
# SKIP_LOOPBACK=1 leaves out step 2, SKIP_BROWSER=1 step 4.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "prerequisites"
scripts/prerequisites.sh test
step "models (trained if missing)"
scripts/train.sh --if-missing
if [[ ${SKIP_LOOPBACK:-0} != 1 ]]; then
    step "e2e suite on loopback (host processes, no containers)"
    python3 tests/harness/loopback.py
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
        echo; echo "==> browser test of the landing page and /docs (tests/browser)"
        scripts/browser-test.sh || status=$?
        exit "$status"'
fi
