#!/usr/bin/env bash
# Checks what the NixOS modules generate without NixOS: render.nix evaluates the three modules
# with nixpkgs' lib (their NixOS options stubbed), and run.py starts the real binaries, Nginx,
# the Nginx exporter and Prometheus from that output on loopback, in a private network
# namespace, then runs tests/e2e/run.py against it (monitoring checks included).
#
# It complements the VM test (nix/tests/gateway.nix), which needs Nix, nixpkgs and KVM; this needs
# only nixpkgs' lib/ folder, e.g. from a nixpkgs checkout, or with Nix and network:
#   NIXPKGS_LIB=$(nix eval --raw --impure --expr "(builtins.getFlake \"$PWD\").inputs.nixpkgs.outPath")/lib
#
# Usage (root, for unshare): NIXPKGS_LIB=/path/to/nixpkgs/lib nix/loopback/run.sh
# Needs: cargo, nix-instantiate, nginx, prometheus + promtool, prometheus-nginx-exporter, openssl,
# curl, python3, iproute2 (all Debian packages). Work files go to build/loopback/.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"
lib=${NIXPKGS_LIB:?set NIXPKGS_LIB to a nixpkgs lib/ folder (see the header of this script)}
work=$repo/build/loopback
mkdir -p "$work"
export NIX_CONFIG="build-users-group ="

echo "==> cargo build --release (emotion-api, access-log-exporter, emotion-train)"
cargo build --release --locked --bins -p emotion-api -p access-log-exporter -p emotion-model
bindir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release

# The same command as the `model` derivation (nix/packages.nix).
if [[ ! -s $work/model/emotion-model.bin ]]; then
    "$bindir/emotion-train" --data data/tweet_emotions.csv --out "$work/model"
fi

echo "==> render the NixOS modules (nix/loopback/render.nix)"
nix-instantiate --eval --strict --json nix/loopback/render.nix \
    --arg lib "import $lib" --arg root "$repo" >"$work/rendered.json"

echo "==> run them on loopback and the e2e suite against them"
exec unshare -n -- python3 nix/loopback/run.py "$repo" "$work" "$bindir"
