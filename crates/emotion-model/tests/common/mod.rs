//! Shared test fixtures: the real training data and a tiny synthetic dataset.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use emotion_model::data::{load_csv, parse_csv, sha256_hex, Dataset};
use emotion_model::Model;

/// The repository's training data.
pub fn real_data() -> Dataset {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/tweet_emotions.csv");
    load_csv(&path).expect("data/tweet_emotions.csv")
}

/// 40 rows, 4 labels; ids ending in 0 or 5 are held out.
pub fn tiny_data() -> Dataset {
    let mut csv = String::from("tweet_id,sentiment,content\r\n");
    let rows = [
        ("love", "i love you so much &lt;3"),
        ("love", "love this song :)"),
        ("worry", "so worried about the exam tomorrow"),
        ("worry", "i hope it works out, worried"),
        ("happiness", "great day at the beach :D"),
        ("happiness", "happy happy day http://x.co"),
        ("sadness", "i miss you :( so sad"),
        ("sadness", "sad and alone tonight @bob"),
    ];
    for i in 0..40u64 {
        let (label, text) = rows[(i % 8) as usize];
        csv.push_str(&format!("{},{label},\"{text} {i}\"\r\n", 1000 + i));
    }
    let examples = parse_csv(csv.as_bytes()).expect("tiny csv");
    Dataset {
        examples,
        sha256: sha256_hex(csv.as_bytes()),
    }
}

/// A fresh path in the system temp dir, unique per process and `name`.
pub fn temp_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("emotion-model-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join(name)
}

/// Saves and reloads `model`, then asserts the reloaded one gives the same label and
/// bit-identical probabilities on every text.
pub fn assert_round_trip_bit_identical<S: AsRef<str>>(model: &Model, texts: &[S]) {
    let loaded = Model::from_bytes(&model.to_bytes()).unwrap();
    assert_eq!(loaded.version(), model.version());
    for text in texts {
        let (a, b) = (model.predict(text.as_ref()), loaded.predict(text.as_ref()));
        assert_eq!(a.label, b.label);
        assert!(a
            .probabilities
            .iter()
            .zip(&b.probabilities)
            .all(|(x, y)| x.to_bits() == y.to_bits()));
    }
}
