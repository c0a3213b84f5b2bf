#!/usr/bin/env bash
# Lint of everything that is not Rust: shell with shellcheck (warnings and
# errors; Debian's package), Python with ruff check and ruff format --check
# (ruff.toml; pinned, installed from PyPI into build/venv the way the test
# suites install their tools; `build/venv/bin/ruff format` fixes the layout).
# Files are the ones git knows, tracked or new, so a new script is linted
# before its first commit.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
RUFF_VERSION=0.14.9

files() { git ls-files --cached --others --exclude-standard -- "$@"; }

command -v shellcheck >/dev/null || { echo "lint: shellcheck is required (apt-get install shellcheck)" >&2; exit 1; }
mapfile -t shell < <(files '*.sh')
shellcheck -x -S warning "${shell[@]}"
echo "shellcheck: ${#shell[@]} scripts clean"

venv=build/venv
if [[ ! -x $venv/bin/ruff ]] || [[ $("$venv/bin/ruff" --version) != "ruff $RUFF_VERSION" ]]; then
    [[ -x $venv/bin/pip ]] || python3 -m venv "$venv"
    "$venv/bin/pip" install -q "ruff==$RUFF_VERSION"
fi
mapfile -t python < <(files '*.py')
"$venv/bin/ruff" check -q "${python[@]}"
"$venv/bin/ruff" format -q --check "${python[@]}"
echo "ruff: ${#python[@]} Python files clean and formatted"
