//! The model artifact file format, version 3: one [safetensors] file, so that the weights open
//! from Python (`safetensors.numpy.load_file`) without this crate.
//!
//! ```text
//! tensor   dtype  shape               content
//! weights  F64    [features, labels]  row-major by feature: ln P(f|c) (NB) or softmax weights
//! biases   F64    [labels]            ln P(c) (NB) or softmax biases
//! idf      F64    [features]          training-set IDF; only for logistic regression with idf
//! sha256   U8     [32]                sha256 of the whole file with these 32 bytes zeroed
//!
//! __metadata__ = {"emotion_model": "<model card, JSON>"}
//! model card   = {"format": "emotion-model", "format_version": 3,
//!                 "labels": [...], "vocabulary": [...], "info": ModelInfo}
//! ```
//!
//! Why this shape:
//! - `f64` tensors are the raw little-endian bits, so weights round-trip bit-exactly; the card's
//!   few floats (metrics, `l2`, `alpha`) round-trip through serde_json's `float_roundtrip`.
//! - One metadata key only: the safetensors crate writes `__metadata__` from a `HashMap`, whose
//!   order changes from run to run, and the version must not (same training, same bytes).
//! - safetensors has no checksum; the `sha256` tensor keeps detecting corruption anywhere in the
//!   file (header and card included) before anything is trusted.
//! - The version string is the first 12 hex digits of the sha256 of the file's bytes
//!   (`sha256sum emotion-model.bin | cut -c1-12`).
//!
//! Formats 1 and 2 (bincode behind the magic `EMOTNB\r\n`) are recognised and refused.
//!
//! [safetensors]: https://huggingface.co/docs/safetensors/

use std::collections::HashMap;
use std::path::PathBuf;

use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::data::hex;
use crate::payload::{ModelInfo, Payload};

/// The format this build writes and the only one it reads.
pub const FORMAT_VERSION: u32 = 3;
/// The `__metadata__` key holding the model card.
pub const METADATA_KEY: &str = "emotion_model";
/// The card's `format` field: tells our files from other safetensors files.
pub const FORMAT_NAME: &str = "emotion-model";
/// First bytes of the bincode artifacts of formats 1 and 2.
pub const LEGACY_MAGIC: [u8; 8] = *b"EMOTNB\r\n";
/// The safetensors length prefix.
const PREFIX_LEN: usize = 8;
/// Refuse absurd header lengths before allocating anything for them (the safetensors limit).
const MAX_HEADER: u64 = 100_000_000;
const WEIGHTS: &str = "weights";
const BIASES: &str = "biases";
const IDF: &str = "idf";
const CHECKSUM: &str = "sha256";

/// Why an artifact could not be loaded or saved.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    /// The file could not be read or written (missing, permissions, ...).
    #[error("cannot access model artifact {path}: {source}")]
    Io {
        /// The artifact path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Not a safetensors file, or one without an emotion model card.
    #[error("not an emotion model artifact (expected a safetensors file with an `emotion_model` model card)")]
    NotAnArtifact,
    /// Written by an incompatible version of the format.
    #[error("unsupported model artifact format version {found} (this build reads version {supported}); retrain with this build's emotion-train")]
    UnsupportedVersion {
        /// Version in the file.
        found: u32,
        /// Version this build reads.
        supported: u32,
    },
    /// Trained with other text normalisation rules than this build applies.
    #[error("model artifact was trained with tokenizer version {found}, this build tokenizes with version {supported}; retrain with this build's emotion-train")]
    IncompatibleTokenizer {
        /// Tokenizer version in the artifact.
        found: u32,
        /// Tokenizer version of this build.
        supported: u32,
    },
    /// Fewer bytes than the header announces.
    #[error("model artifact is truncated: expected {expected} bytes, found {found}")]
    Truncated {
        /// Bytes the header announces (or the length prefix's size).
        expected: u64,
        /// Bytes present.
        found: u64,
    },
    /// More bytes than the header announces.
    #[error("model artifact has {extra} unexpected trailing bytes")]
    TrailingBytes {
        /// Bytes after the last tensor.
        extra: u64,
    },
    /// The file does not match its checksum.
    #[error("model artifact is corrupt: checksum mismatch")]
    ChecksumMismatch,
    /// The file passed the checksum but does not decode or is inconsistent.
    #[error("model artifact is invalid: {0}")]
    Invalid(String),
}

/// The model card as stored in `__metadata__`.
#[derive(Serialize, Deserialize)]
struct Card {
    format: String,
    format_version: u32,
    labels: Vec<String>,
    vocabulary: Vec<String>,
    info: ModelInfo,
}

fn invalid<T>(message: impl Into<String>) -> Result<T, ArtifactError> {
    Err(ArtifactError::Invalid(message.into()))
}

fn f64_bytes(values: &[f64]) -> Vec<u8> {
    values.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Writes a payload as an artifact. Fails only when its parts do not fit together (a tensor's
/// length differs from its shape).
pub(crate) fn encode(payload: &Payload) -> Result<Vec<u8>, ArtifactError> {
    let card = Card {
        format: FORMAT_NAME.to_string(),
        format_version: FORMAT_VERSION,
        labels: payload.labels.clone(),
        vocabulary: payload.vocabulary.clone(),
        info: payload.info.clone(),
    };
    let card = serde_json::to_string(&card).expect("plain data serialises");
    let (features, labels) = (payload.vocabulary.len(), payload.labels.len());
    let weights = f64_bytes(&payload.feature_log_prob);
    let biases = f64_bytes(&payload.log_prior);
    let idf = f64_bytes(&payload.idf);
    let zero = [0u8; 32];
    let view = |name: &str, dtype, shape, data| {
        TensorView::new(dtype, shape, data)
            .or_else(|e| invalid(format!("tensor `{name}`: {e}")))
            .map(|v| (name.to_string(), v))
    };
    let mut tensors = vec![
        view(WEIGHTS, Dtype::F64, vec![features, labels], &weights)?,
        view(BIASES, Dtype::F64, vec![labels], &biases)?,
        view(CHECKSUM, Dtype::U8, vec![zero.len()], &zero)?,
    ];
    if payload.has_idf() {
        tensors.push(view(IDF, Dtype::F64, vec![features], &idf)?);
    }
    seal(tensors, card)
}

/// Serialises the tensors (one of them the zeroed `sha256`) with the card, then fills in the
/// checksum.
fn seal(tensors: Vec<(String, TensorView<'_>)>, card: String) -> Result<Vec<u8>, ArtifactError> {
    let metadata = HashMap::from([(METADATA_KEY.to_string(), card)]);
    let mut bytes = safetensors::serialize(tensors, Some(metadata))
        .or_else(|e| invalid(format!("safetensors: {e}")))?;
    let range = checksum_range(&bytes)?;
    let digest = Sha256::digest(&bytes);
    bytes[range].copy_from_slice(&digest);
    Ok(bytes)
}

/// Where the `sha256` tensor's 32 bytes are in the file.
fn checksum_range(bytes: &[u8]) -> Result<std::ops::Range<usize>, ArtifactError> {
    let (n, metadata) =
        SafeTensors::read_metadata(bytes).or_else(|e| invalid(format!("safetensors: {e}")))?;
    let Some(info) = metadata.info(CHECKSUM) else {
        return invalid(format!("missing tensor `{CHECKSUM}`"));
    };
    if info.dtype != Dtype::U8 || info.shape != [32] {
        return invalid(format!(
            "tensor `{CHECKSUM}` is {:?} {:?}, expected U8 [32]",
            info.dtype, info.shape
        ));
    }
    let start = PREFIX_LEN + n + info.data_offsets.0;
    Ok(start..start + 32)
}

/// Checks the framing, format version and checksum, then decodes. Returns the payload and its
/// version string.
pub(crate) fn decode(bytes: &[u8]) -> Result<(Payload, String), ArtifactError> {
    let header = frame(bytes)?;
    let card = card_json(&header)?;
    let range = checksum_range(bytes)?;
    let mut hasher = Sha256::new();
    hasher.update(&bytes[..range.start]);
    hasher.update([0u8; 32]);
    hasher.update(&bytes[range.end..]);
    if hasher.finalize()[..] != bytes[range] {
        return Err(ArtifactError::ChecksumMismatch);
    }
    let card: Card =
        serde_json::from_str(&card).or_else(|e| invalid(format!("model card: {e}")))?;
    if card.info.format_version != FORMAT_VERSION {
        return invalid(format!(
            "metadata says format version {}",
            card.info.format_version
        ));
    }
    let tensors =
        SafeTensors::deserialize(bytes).or_else(|e| invalid(format!("safetensors: {e}")))?;
    let (features, labels) = (card.vocabulary.len(), card.labels.len());
    let mut payload = Payload {
        info: card.info,
        labels: card.labels,
        vocabulary: card.vocabulary,
        log_prior: f64_tensor(&tensors, BIASES, &[labels])?,
        feature_log_prob: f64_tensor(&tensors, WEIGHTS, &[features, labels])?,
        idf: Vec::new(),
    };
    let mut expected = vec![WEIGHTS, BIASES, CHECKSUM];
    if payload.has_idf() {
        payload.idf = f64_tensor(&tensors, IDF, &[features])?;
        expected.push(IDF);
    }
    if let Some(extra) = tensors.names().into_iter().find(|n| !expected.contains(n)) {
        return invalid(format!(
            "unexpected tensor `{extra}` for these hyperparameters"
        ));
    }
    Ok((payload, hex(&Sha256::digest(bytes)[..6])))
}

/// The framing: safetensors length prefix, JSON header, and exactly the data it announces.
/// Returns the parsed header.
fn frame(bytes: &[u8]) -> Result<serde_json::Map<String, serde_json::Value>, ArtifactError> {
    let found = bytes.len() as u64;
    if bytes.starts_with(&LEGACY_MAGIC) {
        return match bytes.get(8..12) {
            Some(v) => Err(ArtifactError::UnsupportedVersion {
                found: u32::from_le_bytes(v.try_into().expect("4 bytes")),
                supported: FORMAT_VERSION,
            }),
            None => Err(ArtifactError::Truncated {
                expected: 12,
                found,
            }),
        };
    }
    let Some(prefix) = bytes.get(..PREFIX_LEN) else {
        return Err(ArtifactError::Truncated {
            expected: PREFIX_LEN as u64,
            found,
        });
    };
    let n = u64::from_le_bytes(prefix.try_into().expect("8 bytes"));
    // A safetensors header is a JSON object: anything else is a foreign file.
    if n > MAX_HEADER || bytes.get(PREFIX_LEN).is_some_and(|&b| b != b'{') {
        return Err(ArtifactError::NotAnArtifact);
    }
    let header_end = PREFIX_LEN as u64 + n;
    if found < header_end {
        return Err(ArtifactError::Truncated {
            expected: header_end,
            found,
        });
    }
    let header: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&bytes[PREFIX_LEN..header_end as usize])
            .or_else(|e| invalid(format!("safetensors header: {e}")))?;
    let mut data_len = 0u64;
    for (name, info) in header.iter().filter(|(k, _)| *k != "__metadata__") {
        let Some(end) = info["data_offsets"][1].as_u64() else {
            return invalid(format!("tensor `{name}` has no data offsets"));
        };
        data_len = data_len.max(end);
    }
    let expected = header_end.saturating_add(data_len);
    if found < expected {
        return Err(ArtifactError::Truncated { expected, found });
    }
    if found > expected {
        return Err(ArtifactError::TrailingBytes {
            extra: found - expected,
        });
    }
    Ok(header)
}

/// The model card's JSON text, once its format name and version are ours.
fn card_json(header: &serde_json::Map<String, serde_json::Value>) -> Result<String, ArtifactError> {
    let card = header
        .get("__metadata__")
        .and_then(|m| m.get(METADATA_KEY))
        .and_then(serde_json::Value::as_str);
    let Some(card) = card else {
        return Err(ArtifactError::NotAnArtifact);
    };
    let value: serde_json::Value =
        serde_json::from_str(card).or_else(|e| invalid(format!("model card: {e}")))?;
    if value["format"] != FORMAT_NAME {
        return Err(ArtifactError::NotAnArtifact);
    }
    match value["format_version"].as_u64() {
        Some(v) if v == u64::from(FORMAT_VERSION) => Ok(card.to_string()),
        Some(v) => Err(ArtifactError::UnsupportedVersion {
            found: u32::try_from(v).unwrap_or(u32::MAX),
            supported: FORMAT_VERSION,
        }),
        None => invalid("model card has no format_version"),
    }
}

/// The values of an `F64` tensor of exactly `shape`.
fn f64_tensor(
    tensors: &SafeTensors<'_>,
    name: &str,
    shape: &[usize],
) -> Result<Vec<f64>, ArtifactError> {
    let Ok(t) = tensors.tensor(name) else {
        return invalid(format!("missing tensor `{name}`"));
    };
    if t.dtype() != Dtype::F64 || t.shape() != shape {
        return invalid(format!(
            "tensor `{name}` is {:?} {:?}, expected F64 {shape:?}",
            t.dtype(),
            t.shape()
        ));
    }
    Ok(t.data()
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")))
        .collect())
}

/// The version string of a payload, as [`decode`] would report it.
pub(crate) fn version_of(payload: &Payload) -> Result<String, ArtifactError> {
    Ok(hex(&Sha256::digest(encode(payload)?)[..6]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hyperparameters::{Hyperparameters, LogisticParams};

    /// The card of an encoded payload.
    fn card_of(p: &Payload) -> String {
        let bytes = encode(p).unwrap();
        let (_, metadata) = SafeTensors::read_metadata(&bytes).unwrap();
        metadata.metadata().as_ref().unwrap()[METADATA_KEY].clone()
    }

    /// A tensor to write: name, dtype, shape, bytes.
    type Tensor = (&'static str, Dtype, Vec<usize>, Vec<u8>);

    /// A sealed file with `p`'s card and the given tensors.
    fn file(p: &Payload, tensors: &[Tensor]) -> Vec<u8> {
        let zero = [0u8; 32];
        let mut views: Vec<(String, TensorView<'_>)> = tensors
            .iter()
            .map(|(n, d, s, b)| (n.to_string(), TensorView::new(*d, s.clone(), b).unwrap()))
            .collect();
        views.push((
            CHECKSUM.into(),
            TensorView::new(Dtype::U8, vec![32], &zero).unwrap(),
        ));
        seal(views, card_of(p)).unwrap()
    }

    fn invalid_message(bytes: &[u8]) -> String {
        match decode(bytes) {
            Err(ArtifactError::Invalid(m)) => m,
            other => panic!("expected Invalid, got {:?}", other.map(|(_, v)| v)),
        }
    }

    #[test]
    fn round_trip_is_bit_exact_for_awkward_floats() {
        let mut p = Payload::example();
        p.feature_log_prob = vec![-0.0, f64::MIN_POSITIVE / 3.0, 0.1 + 0.2, -1e-300];
        p.info.metrics.accuracy = 0.1 + 0.2;
        let (back, version) = decode(&encode(&p).unwrap()).unwrap();
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back.feature_log_prob), bits(&p.feature_log_prob));
        assert_eq!(back, p);
        assert_eq!(version, version_of(&p).unwrap());
    }

    #[test]
    fn missing_or_misshapen_tensors_are_invalid_naming_them() {
        let p = Payload::example();
        let w = f64_bytes(&p.feature_log_prob);
        let b = f64_bytes(&p.log_prior);
        let cases: [(&[Tensor], &str); 4] = [
            (
                &[("biases", Dtype::F64, vec![2], b.clone())],
                "missing tensor `weights`",
            ),
            (
                &[
                    ("weights", Dtype::F64, vec![4], w.clone()),
                    ("biases", Dtype::F64, vec![2], b.clone()),
                ],
                "tensor `weights` is F64 [4], expected F64 [2, 2]",
            ),
            (
                &[
                    ("weights", Dtype::F64, vec![2, 2], w.clone()),
                    ("biases", Dtype::U8, vec![16], b.clone()),
                ],
                "tensor `biases` is U8 [16], expected F64 [2]",
            ),
            (
                &[
                    ("weights", Dtype::F64, vec![2, 2], w.clone()),
                    ("biases", Dtype::F64, vec![2], b.clone()),
                    ("idf", Dtype::F64, vec![2], f64_bytes(&[1.0, 1.0])),
                ],
                "unexpected tensor `idf`",
            ),
        ];
        for (tensors, expected) in cases {
            let message = invalid_message(&file(&p, tensors));
            assert!(message.contains(expected), "{message}");
        }
        // Logistic regression with IDF needs its `idf` tensor.
        let mut q = p.clone();
        q.info.hyperparameters = Hyperparameters::Logistic(LogisticParams {
            idf: true,
            ..LogisticParams::default()
        });
        q.idf = vec![1.0, 2.0];
        assert!(decode(&encode(&q).unwrap()).is_ok());
        let message = invalid_message(&file(
            &q,
            &[
                ("weights", Dtype::F64, vec![2, 2], w),
                ("biases", Dtype::F64, vec![2], b),
            ],
        ));
        assert!(message.contains("missing tensor `idf`"), "{message}");
    }
}
