//! Artifact round-trip and rejection of missing, truncated, corrupt and incompatible files.

mod common;

use emotion_model::{train, ArtifactError, Hyperparameters, Model};

fn tiny_model() -> Model {
    let params = Hyperparameters {
        min_df: 1,
        ..Hyperparameters::default()
    };
    train(&common::tiny_data(), &params)
        .expect("tiny training")
        .model
}

const TEXTS: [&str; 6] = [
    "i love you",
    "worried sick :(",
    "",
    "&quot;sooo happy&quot; @x http://y",
    "unknown words only",
    "😀😀 <3",
];

#[test]
fn save_then_load_gives_identical_bytes_and_bit_identical_predictions() {
    let model = tiny_model();
    let path = common::temp_path("roundtrip.bin");
    model.save(&path).unwrap();
    let loaded = Model::load(&path).unwrap();
    assert_eq!(loaded.to_bytes(), model.to_bytes());
    assert_eq!(loaded.version(), model.version());
    assert_eq!(loaded.labels(), model.labels());
    assert_eq!(loaded.info(), model.info());
    for text in TEXTS {
        let (a, b) = (model.predict(text), loaded.predict(text));
        assert_eq!(a.label, b.label);
        let bits = |p: &[f64]| p.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&a.probabilities), bits(&b.probabilities), "{text:?}");
        assert_eq!(a.confidence.to_bits(), b.confidence.to_bits());
    }
}

#[test]
fn labels_are_sorted_and_version_is_12_hex_digits() {
    let model = tiny_model();
    assert_eq!(model.labels(), ["happiness", "love", "sadness", "worry"]);
    assert_eq!(model.version().len(), 12);
    assert!(model.version().chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(model.info().format_version, emotion_model::FORMAT_VERSION);
}

#[test]
fn same_data_and_hyperparameters_give_the_same_artifact() {
    assert_eq!(tiny_model().to_bytes(), tiny_model().to_bytes());
    let other = train(
        &common::tiny_data(),
        &Hyperparameters {
            min_df: 1,
            alpha: 0.5,
            ..Hyperparameters::default()
        },
    )
    .unwrap()
    .model;
    assert_ne!(other.version(), tiny_model().version());
}

#[test]
fn missing_file_is_an_io_error_naming_the_path() {
    let path = common::temp_path("does-not-exist.bin");
    let err = Model::load(&path).unwrap_err();
    assert!(matches!(err, ArtifactError::Io { .. }), "{err}");
    assert!(err.to_string().contains("does-not-exist.bin"), "{err}");
}

#[test]
fn every_truncation_is_reported_as_truncated() {
    let bytes = tiny_model().to_bytes();
    for len in [
        0,
        1,
        7,
        8,
        11,
        12,
        20,
        51,
        52,
        53,
        bytes.len() / 2,
        bytes.len() - 1,
    ] {
        let err = Model::from_bytes(&bytes[..len]).unwrap_err();
        assert!(
            matches!(err, ArtifactError::Truncated { .. }),
            "len {len}: {err}"
        );
        assert!(err.to_string().contains("truncated"), "{err}");
    }
}

#[test]
fn flipped_bits_in_payload_or_checksum_fail_the_checksum() {
    let bytes = tiny_model().to_bytes();
    for at in [20, 40, 52, bytes.len() / 2, bytes.len() - 1] {
        let mut corrupt = bytes.clone();
        corrupt[at] ^= 0x01;
        let err = Model::from_bytes(&corrupt).unwrap_err();
        assert!(
            matches!(err, ArtifactError::ChecksumMismatch),
            "at {at}: {err}"
        );
        assert!(err.to_string().contains("corrupt"), "{err}");
    }
}

#[test]
fn foreign_files_are_not_artifacts() {
    for bytes in [&b"{\"labels\": []}"[..], b"GIF89a........", &[0u8; 100]] {
        let err = Model::from_bytes(bytes).unwrap_err();
        assert!(matches!(err, ArtifactError::NotAnArtifact), "{err}");
    }
}

#[test]
fn other_format_versions_are_incompatible() {
    assert_eq!(emotion_model::FORMAT_VERSION, 2);
    // 1: the naive-Bayes-only format before the model kind and IDF were stored; 3: the future.
    for other in [1u32, 3] {
        let mut bytes = tiny_model().to_bytes();
        bytes[8..12].copy_from_slice(&other.to_le_bytes());
        let err = Model::from_bytes(&bytes).unwrap_err();
        assert!(
            matches!(
                err,
                ArtifactError::UnsupportedVersion { found, supported: 2 } if found == other
            ),
            "{err}"
        );
        assert!(
            err.to_string().contains(&format!("format version {other}")),
            "{err}"
        );
    }
}

#[test]
fn trailing_bytes_are_rejected() {
    let mut bytes = tiny_model().to_bytes();
    bytes.extend_from_slice(b"junk");
    let err = Model::from_bytes(&bytes).unwrap_err();
    assert!(
        matches!(err, ArtifactError::TrailingBytes { extra: 4 }),
        "{err}"
    );
}

#[test]
fn explain_names_in_vocabulary_features_strongest_first() {
    let model = tiny_model();
    let e = model.explain("i love you so much <3", 3);
    assert_eq!(model.labels()[e.prediction.label], "love");
    assert_eq!(e.tokens, ["i", "love", "you", "so", "much", "<3"]);
    assert!(!e.top_features.is_empty() && e.top_features.len() <= 3);
    assert!(e
        .top_features
        .windows(2)
        .all(|w| w[0].weight >= w[1].weight));
    assert!(e.top_features[0].weight > 0.0);
    assert!(e
        .top_features
        .iter()
        .all(|f| model.vocabulary().contains(&f.token)));
    assert_eq!(e.prediction, model.predict("i love you so much <3"));
}
