//! The model artifact file format.
//!
//! ```text
//! offset  size  field
//!      0     8  magic "EMOTNB\r\n" (the CR LF catches text-mode transfers that rewrite newlines)
//!      8     4  format version, u32 little-endian
//!     12     8  payload length in bytes, u64 little-endian
//!     20    32  sha256 of the payload
//!     52     n  payload: bincode 2 (standard config) encoding of the model via serde
//! ```
//!
//! bincode writes every `f64` as its 8 raw little-endian bytes, so weights round-trip bit-exactly
//! (text formats such as JSON do not, by default). The checksum detects truncation and
//! corruption before decoding; the version string is derived from it.

use std::path::PathBuf;

use sha2::{Digest, Sha256};

use crate::data::hex;
use crate::model::Payload;

/// First bytes of every artifact.
pub const MAGIC: [u8; 8] = *b"EMOTNB\r\n";
/// The format this build writes and the only one it reads.
pub const FORMAT_VERSION: u32 = 2;
const HEADER_LEN: usize = 8 + 4 + 8 + 32;
/// Refuse absurd lengths before allocating anything for them.
const MAX_PAYLOAD: u64 = 1 << 30;

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
    /// The bytes do not start with the artifact magic.
    #[error("not an emotion model artifact (bad magic bytes)")]
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
        /// Bytes the header announces (or the header size).
        expected: u64,
        /// Bytes present.
        found: u64,
    },
    /// More bytes than the header announces.
    #[error("model artifact has {extra} unexpected trailing bytes")]
    TrailingBytes {
        /// Bytes after the payload.
        extra: u64,
    },
    /// The payload does not match its checksum.
    #[error("model artifact is corrupt: checksum mismatch")]
    ChecksumMismatch,
    /// The payload passed the checksum but does not decode or is inconsistent.
    #[error("model artifact is invalid: {0}")]
    Invalid(String),
}

fn config() -> impl bincode::config::Config {
    bincode::config::standard()
}

/// Encodes a payload with its header.
pub(crate) fn encode(payload: &Payload) -> Vec<u8> {
    let body = bincode::serde::encode_to_vec(payload, config())
        .expect("encoding plain data into a Vec cannot fail");
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(&Sha256::digest(&body));
    out.extend_from_slice(&body);
    out
}

/// Checks the header and checksum, then decodes. Returns the payload and its version string.
pub(crate) fn decode(bytes: &[u8]) -> Result<(Payload, String), ArtifactError> {
    let found = bytes.len() as u64;
    if bytes.len() < MAGIC.len() || bytes[..MAGIC.len()] != MAGIC {
        // A prefix of the magic is a truncated artifact, not a foreign file.
        if !bytes.is_empty() && MAGIC.starts_with(bytes) {
            return Err(ArtifactError::Truncated {
                expected: HEADER_LEN as u64,
                found,
            });
        }
        return Err(if bytes.is_empty() {
            ArtifactError::Truncated {
                expected: HEADER_LEN as u64,
                found,
            }
        } else {
            ArtifactError::NotAnArtifact
        });
    }
    if bytes.len() < 12 {
        return Err(ArtifactError::Truncated {
            expected: HEADER_LEN as u64,
            found,
        });
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    if version != FORMAT_VERSION {
        return Err(ArtifactError::UnsupportedVersion {
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    if bytes.len() < HEADER_LEN {
        return Err(ArtifactError::Truncated {
            expected: HEADER_LEN as u64,
            found,
        });
    }
    let len = u64::from_le_bytes(bytes[12..20].try_into().expect("8 bytes"));
    if len > MAX_PAYLOAD {
        return Err(ArtifactError::Invalid(format!(
            "payload length {len} is implausible"
        )));
    }
    let expected = HEADER_LEN as u64 + len;
    if found < expected {
        return Err(ArtifactError::Truncated { expected, found });
    }
    if found > expected {
        return Err(ArtifactError::TrailingBytes {
            extra: found - expected,
        });
    }
    let body = &bytes[HEADER_LEN..];
    let digest = Sha256::digest(body);
    if digest[..] != bytes[20..52] {
        return Err(ArtifactError::ChecksumMismatch);
    }
    let (payload, used): (Payload, usize) = bincode::serde::decode_from_slice(body, config())
        .map_err(|e| ArtifactError::Invalid(e.to_string()))?;
    if used != body.len() {
        return Err(ArtifactError::Invalid("payload has undecoded bytes".into()));
    }
    if payload.info.format_version != FORMAT_VERSION {
        return Err(ArtifactError::Invalid(format!(
            "metadata says format version {}",
            payload.info.format_version
        )));
    }
    Ok((payload, hex(&digest[..6])))
}

/// The version string of a payload, as [`decode`] would report it.
pub(crate) fn version_of(payload: &Payload) -> String {
    let body = bincode::serde::encode_to_vec(payload, config())
        .expect("encoding plain data into a Vec cannot fail");
    hex(&Sha256::digest(&body)[..6])
}
