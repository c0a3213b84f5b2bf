#!/usr/bin/env bash
# Static checks of the Nix code that need neither nixpkgs nor a binary cache.
#
# 1. Every .nix file parses (`nix-instantiate --parse`).
# 2. Every .nix file is formatted as nixpkgs-fmt formats it.
# 3. No unused binding or argument (`deadnix --fail`).
# 4. flake.lock is well formed and matches flake.nix (nix/check-flake-lock.py).
# 5. Nix itself accepts the lock as up to date: `nix flake metadata --offline
#    --no-write-lock-file` must resolve every input from flake.lock alone (an input that
#    would need re-locking makes it reach for the network and fail). It neither fetches the
#    inputs nor checks their narHash; that needs the network (nix/README.md).
# 6. nix/render-defaults.nix, which gives the gateway module its option defaults, reads from
#    nginx/render-params.sh exactly the defaults that sh applies (every `: "${NAME:=...}"`
#    line, evaluated by sh in an empty environment).
#
# Evaluating or building the flake needs nixpkgs, so `nix flake check` runs only
# in .github/workflows/nix.yml (see nix/README.md).
#
# nixpkgs-fmt and deadnix come from crates.io: they are installed with
# `cargo install --locked` into $NIX_TOOLS_DIR (default
# ${XDG_CACHE_HOME:-$HOME/.cache}/emotion-gateway/nix-tools) when missing, so
# a second run installs nothing. Pinned versions keep the formatting stable.
#
# Usage: nix/check-static.sh   (from anywhere; exit status 0 when all pass)
set -euo pipefail
# nix-instantiate warns about a missing nixbld group on machines without a Nix daemon.
export NIX_CONFIG="build-users-group ="

NIXPKGS_FMT_VERSION=1.3.0
DEADNIX_VERSION=1.3.1

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools=${NIX_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/emotion-gateway/nix-tools}
cd "$repo"

# Installs crate $1 at version $2 unless that exact version is already there.
ensure_tool() {
    local crate=$1 version=$2
    local installed=""
    # (nixpkgs-fmt --version exits 1 after printing its version.)
    [ -x "$tools/bin/$crate" ] && installed=$("$tools/bin/$crate" --version 2>&1 || true)
    case "$installed" in
        *" $version"*) return ;;
    esac
    echo "==> installing $crate $version into $tools"
    cargo install --locked --quiet --root "$tools" --version "$version" "$crate"
}

# Tracked and new (not ignored) .nix files; a fresh checkout has no others.
mapfile -t nix_files < <(git ls-files --cached --others --exclude-standard -- '*.nix' | sort)
if [ "${#nix_files[@]}" -eq 0 ]; then
    echo "no .nix files found" >&2
    exit 1
fi

echo "==> nix-instantiate --parse (${#nix_files[@]} files)"
for file in "${nix_files[@]}"; do
    nix-instantiate --parse "$file" >/dev/null
done

ensure_tool nixpkgs-fmt "$NIXPKGS_FMT_VERSION"
ensure_tool deadnix "$DEADNIX_VERSION"

echo "==> nixpkgs-fmt --check"
"$tools/bin/nixpkgs-fmt" --check "${nix_files[@]}"

echo "==> deadnix --fail"
"$tools/bin/deadnix" --fail "${nix_files[@]}"

echo "==> flake.lock"
python3 nix/check-flake-lock.py "$repo"

echo "==> nix flake metadata --offline"
nix --extra-experimental-features 'nix-command flakes' flake metadata --offline --no-write-lock-file "$repo"

echo "==> nix/render-defaults.nix against sh"
python3 - <<'EOF'
import json, re, subprocess
expr = "import ./nix/render-defaults.nix ./nginx/render-params.sh"
nix = json.loads(subprocess.check_output(["nix-instantiate", "--eval", "--strict", "--json", "-E", expr]))
lines = [line for line in open("nginx/render-params.sh") if line.startswith(': "${')]
show = "".join(f'printf "%s=%s\\n" {name} "${name}"\n' for name in sorted(nix))
out = subprocess.check_output(["env", "-i", "sh", "-c", "".join(lines) + show], text=True)
applied = dict(line.split("=", 1) for line in out.splitlines())
assert len(nix) == len(lines), f"{len(lines)} default lines in render-params.sh, {len(nix)} read by Nix"
assert nix == applied, f"Nix reads {nix}, sh applies {applied}"
print(f"{len(nix)} defaults, the same in Nix and sh")
EOF

echo "nix static checks passed"
