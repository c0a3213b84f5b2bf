#!/usr/bin/env bash
# `make test-static`: every check that needs no running service.
#   cargo fmt --check, clippy -D warnings, cargo test (whole workspace);
#   nginx -t of the gateway config with the host's nginx; promtool check
#   config, check rules and test rules (monitoring/check.sh); shellcheck and
#   ruff (scripts/lint.sh); .env.example against the code's defaults.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "prerequisites"
scripts/prerequisites.sh test
step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings
step "cargo test --workspace"
cargo test --workspace
step "nginx -t (host nginx)"
scripts/nginx-test.sh
step "promtool: config, rules and rule unit tests"
monitoring/check.sh
step "lint: shellcheck and ruff"
scripts/lint.sh
step ".env.example lists every setting with the code's default"
python3 tests/static/env_example.py
