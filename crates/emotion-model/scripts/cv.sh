#!/usr/bin/env bash
# 4-fold cross-validation over the training rows (never the held-out rows) for every setting the
# sweep example is given; prints mean accuracy and macro-F1 per setting, best mean accuracy first.
# usage: crates/emotion-model/scripts/cv.sh [sweep flags...]   (run from the repository root)
#        SWEEP=logreg_sweep crates/emotion-model/scripts/cv.sh [logreg_sweep flags...]
set -euo pipefail
example="${SWEEP:-sweep}"
cargo build --release -q -p emotion-model --example "$example"
bin="${CARGO_TARGET_DIR:-target}/release/examples/$example"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
for k in 1 2 3 4; do "$bin" --fold "$k" "$@" | tail -n +2 > "$tmp/$k"; done
cat "$tmp"/[1-4] | awk -F'|' '{ key=$1; split($3, m, " "); acc[key]+=m[1]; f1[key]+=m[2]; n[key]++ }
  END { for (k in acc) printf "%s| cv accuracy %.4f macro_f1 %.4f\n", k, acc[k]/n[k], f1[k]/n[k] }' \
  | sort -t'|' -k2 -r
