#!/usr/bin/env bash
# Trains the two model artifacts an experiment compares, from
# data/tweet_emotions.csv (the one place the training command is written):
#
#   model/emotion-model.bin             the champion: emotion-train's default
#                                       (logistic regression), served by v1
#                                       and, unless V2_MODEL says otherwise, v2
#   model/challenger/emotion-model.bin  the challenger: multinomial naive Bayes
#                                       on the same features, a different
#                                       model family; serve it on v2 with
#                                       V2_MODEL=challenger/emotion-model.bin
#
# Each folder also gets MODEL_CARD.md and metrics.json with the held-out
# metrics (the same 20 % split for both, so the cards compare).
#
# Usage: scripts/train.sh [--if-missing]   (--if-missing: keep existing artifacts
#                                           that this build can load)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if_missing=0
[[ ${1-} == --if-missing ]] && if_missing=1

train() { # OUT_DIR [emotion-train flags...]
    local out=$1
    shift
    if [[ $if_missing == 1 && -s $out/emotion-model.bin ]]; then
        # Kept only if this build can load it: an artifact of an older format
        # (say, from before an upgrade) is retrained, not handed to replicas
        # that would refuse it.
        if cargo run --release -q -p emotion-model --bin emotion-predict -- \
            --model "$out/emotion-model.bin" </dev/null >/dev/null 2>&1; then
            return
        fi
        echo "train: $out/emotion-model.bin cannot be loaded by this build (an older format?): retraining"
    fi
    echo "train: $out/emotion-model.bin ${*:-(defaults)}"
    cargo run --release -q -p emotion-model --bin emotion-train -- \
        --data data/tweet_emotions.csv --out "$out" "$@"
}

train model/
train model/challenger/ --model nb
