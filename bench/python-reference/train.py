"""Trains the Python reference: the exam's scikit-learn pipeline on data/tweet_emotions.csv.

The pipeline is the exam's (`ressources/gen_model.py`): TfidfVectorizer(max_features=5000) followed
by LogisticRegression(max_iter=1000), on `content` -> `sentiment`. Unlike the exam, which trains on
every row, it holds out the same 20 % as the Rust model (`crates/emotion-model/src/data.rs`: a row is
held out iff its tweet_id is divisible by 5), so that the two held-out accuracies are comparable.

Writes the fitted pipeline with joblib to build/python-reference/model.joblib and its metrics to
build/python-reference/metrics.json (build/ is git-ignored), and prints the metrics.

    build/python-reference/venv/bin/python bench/python-reference/train.py [--data CSV] [--out DIR]
"""

import argparse
import csv
import json
import sys
import time
from pathlib import Path

import joblib
import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.pipeline import Pipeline

ROOT = Path(__file__).resolve().parents[2]


def is_held_out(tweet_id: int) -> bool:
    """The Rust model's fixed split: held out iff tweet_id % 5 == 0 (about 20 %)."""
    return tweet_id % 5 == 0


def load(path: Path) -> list[tuple[int, str, str]]:
    """(tweet_id, sentiment, content) per row; rows with an empty field are dropped (the exam's dropna)."""
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        rows = [(r["tweet_id"], r["sentiment"], r["content"]) for r in reader]
    return [(int(i), label, text) for i, label, text in rows if i and label and text]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "tweet_emotions.csv")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "python-reference")
    args = parser.parse_args()

    rows = load(args.data)
    train = [r for r in rows if not is_held_out(r[0])]
    test = [r for r in rows if is_held_out(r[0])]
    pipeline = Pipeline(
        [
            ("tfidf", TfidfVectorizer(max_features=5000)),
            ("clf", LogisticRegression(max_iter=1000)),
        ]
    )
    started = time.monotonic()
    pipeline.fit([r[2] for r in train], [r[1] for r in train])
    seconds = time.monotonic() - started

    truth = [r[1] for r in test]
    predicted = pipeline.predict([r[2] for r in test])
    labels = [r[1] for r in train]
    majority = max(set(labels), key=labels.count)  # the training rows' most frequent label
    metrics = {
        "split": "held out: tweet_id % 5 == 0; trained on the rest",
        "train_rows": len(train),
        "test_rows": len(test),
        "accuracy": round(float(accuracy_score(truth, predicted)), 4),
        "macro_f1": round(float(f1_score(truth, predicted, average="macro", zero_division=0)), 4),
        "majority_baseline_accuracy": round(truth.count(majority) / len(truth), 4),
        "fit_seconds": round(seconds, 1),
        "pipeline": "TfidfVectorizer(max_features=5000) + LogisticRegression(max_iter=1000)",
        "labels": [str(c) for c in pipeline.classes_],
        "scikit_learn": sklearn.__version__,
        "python": sys.version.split()[0],
    }

    args.out.mkdir(parents=True, exist_ok=True)
    model_path = args.out / "model.joblib"
    joblib.dump(pipeline, model_path)
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    print(json.dumps(metrics, indent=2))
    print(f"wrote {model_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
