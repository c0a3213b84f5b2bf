//! Artifact round-trip and rejection of missing, truncated, corrupt and incompatible files.

mod common;

use emotion_model::{train, ArtifactError, Hyperparameters, Model};
use sha2::{Digest, Sha256};

fn tiny_params() -> Hyperparameters {
    let mut params = Hyperparameters::default();
    params.features_mut().min_df = 1;
    params
}

fn tiny_model() -> Model {
    train(&common::tiny_data(), &tiny_params())
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
    let mut params = tiny_params();
    let Hyperparameters::Logistic(p) = &mut params else {
        panic!("the default is logistic")
    };
    p.l2 = 1e-2;
    let other = train(&common::tiny_data(), &params).unwrap().model;
    assert_ne!(other.version(), tiny_model().version());
}

#[test]
fn the_version_is_the_files_sha256_prefix() {
    let model = tiny_model();
    let digest = Sha256::digest(model.to_bytes());
    let hex: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(model.version(), hex);
}

/// The file is a safetensors file: length prefix, JSON header, then the tensors.
fn header_len(bytes: &[u8]) -> usize {
    8 + u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize
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
    let header = header_len(&bytes);
    for len in [
        0,
        1,
        7,
        8,
        9,
        header / 2,
        header - 1,
        header,
        header + 1,
        (header + bytes.len()) / 2,
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
fn flipped_bits_in_tensors_checksum_or_model_card_fail_the_checksum() {
    let bytes = tiny_model().to_bytes();
    let header = header_len(&bytes);
    // A letter of a label inside the model card ("worry" -> "vorry").
    let in_card = bytes[..header]
        .windows(5)
        .position(|w| w == b"worry")
        .unwrap();
    assert_eq!(bytes[in_card], b'w');
    for at in [
        in_card,
        header,
        header + 8,
        (header + bytes.len()) / 2,
        bytes.len() - 1,
    ] {
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
    // Another safetensors file: valid framing, no emotion model card.
    let header = br#"{"x":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}"#;
    let mut other = (header.len() as u64).to_le_bytes().to_vec();
    other.extend_from_slice(header);
    other.extend_from_slice(&[1, 2]);
    for bytes in [
        &b"{\"labels\": []}"[..],
        b"GIF89a........",
        &[0u8; 100],
        &other,
    ] {
        let err = Model::from_bytes(bytes).unwrap_err();
        assert!(matches!(err, ArtifactError::NotAnArtifact), "{err}");
        assert!(err.to_string().contains("safetensors"), "{err}");
    }
}

#[test]
fn bincode_artifacts_of_formats_1_and_2_are_refused_with_a_retrain_hint() {
    for old in [1u32, 2] {
        let mut bytes = b"EMOTNB\r\n".to_vec();
        bytes.extend_from_slice(&old.to_le_bytes());
        bytes.extend_from_slice(&[0u8; 200]);
        let err = Model::from_bytes(&bytes).unwrap_err();
        assert!(
            matches!(err, ArtifactError::UnsupportedVersion { found, supported: 3 } if found == old),
            "{err}"
        );
        let message = err.to_string();
        assert!(
            message.contains(&format!("format version {old}"))
                && message.contains("retrain with this build's emotion-train"),
            "{message}"
        );
    }
}

#[test]
fn other_format_versions_are_incompatible() {
    assert_eq!(emotion_model::FORMAT_VERSION, 3);
    // A future safetensors format: the card's format_version, checked before anything else.
    let bytes = tiny_model().to_bytes();
    let header = header_len(&bytes);
    let field = br#"\"format_version\":3,"#;
    let at = bytes[..header]
        .windows(field.len())
        .position(|w| w == field)
        .expect("the card's top-level format_version");
    for other in [4u32, 9] {
        let mut bytes = bytes.clone();
        bytes[at + field.len() - 2] = b'0' + other as u8;
        let err = Model::from_bytes(&bytes).unwrap_err();
        assert!(
            matches!(
                err,
                ArtifactError::UnsupportedVersion { found, supported: 3 } if found == other
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
