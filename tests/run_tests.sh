#!/usr/bin/env bash
# The end-to-end suite against the running stack (`make start-project`
# first): every check of tests/e2e/ through the gateway, as a user reaches
# it. Ends with the plain line `N passed, N failed`; exit status 0 only when
# nothing failed. Extra arguments go to tests/e2e/run.py (e.g. --only ab).
#
# `make test` runs the same suite, after the static checks, on a stack it
# starts itself when none is running (scripts/test-e2e.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
exec scripts/e2e.sh "$@"
