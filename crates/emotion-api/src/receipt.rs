//! Feedback receipts: what a prediction answer carries so that `POST /feedback` can trust what it
//! is told about that prediction.
//!
//! A receipt is `base64url(payload) "." base64url(tag)` (unpadded), where the payload is the JSON
//! of [`Claims`] (request id, batch item, variant, model version, predicted label, issue time) and
//! the tag is HMAC-SHA256 under a key every replica shares (`EMOTION_FEEDBACK_KEY`). Any replica
//! can therefore check a receipt issued by any other, and nobody without the key can make one or
//! change a field of one: the feedback counters only ever count predictions that were made.
//!
//! Notes on the choices:
//! 1. The tag covers a domain string and the payload *as sent* (its base64 text), so verification
//!    needs no parsing of untrusted bytes: the payload is decoded only once the tag matched.
//! 2. The tag is compared in constant time (`Mac::verify_slice`), so the time of a failed check
//!    tells nothing about how many leading bytes of a forged tag were right.
//! 3. The payload is readable by the client (it is not encrypted): it holds nothing the answer did
//!    not already say, plus the request id and the issue time.
//! 4. The key is at least 32 bytes ([`MIN_KEY_BYTES`]): the HMAC-SHA256 security level; shorter
//!    keys are refused at start-up. Its `Debug` never shows it.

use std::fmt;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::configuration::Variant;

type HmacSha256 = Hmac<Sha256>;

/// Shortest accepted key, in bytes (64 hex digits).
pub const MIN_KEY_BYTES: usize = 32;

/// Length of a tag, in bytes.
pub const TAG_BYTES: usize = 32;

/// Longest receipt looked at: a real one is about 250 characters; anything much longer is refused
/// before decoding.
pub const MAX_RECEIPT_CHARS: usize = 1024;

/// Mixed into every tag, so that the key can never be confused with a key for something else.
const DOMAIN: &[u8] = b"emotion-api feedback receipt v1\n";

/// The shared secret receipts are signed with.
#[derive(Clone)]
pub struct ReceiptKey(Arc<[u8]>);

impl ReceiptKey {
    /// A key from hexadecimal text (surrounding whitespace ignored), at least [`MIN_KEY_BYTES`].
    /// The error says what is wrong without repeating the value.
    pub fn from_hex(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if !text.len().is_multiple_of(2) || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!(
                "must be hexadecimal (an even number of 0-9a-f digits), e.g. `openssl rand -hex {MIN_KEY_BYTES}`"
            ));
        }
        let bytes: Vec<u8> = text
            .as_bytes()
            .chunks(2)
            .map(|pair| {
                let digit = |b: u8| (b as char).to_digit(16).unwrap_or(0) as u8;
                (digit(pair[0]) << 4) | digit(pair[1])
            })
            .collect();
        if bytes.len() < MIN_KEY_BYTES {
            return Err(format!(
                "is {} bytes; at least {MIN_KEY_BYTES} are required ({} hex digits)",
                bytes.len(),
                2 * MIN_KEY_BYTES
            ));
        }
        Ok(ReceiptKey(bytes.into()))
    }

    /// Signs `claims` into a receipt.
    pub fn sign(&self, claims: &Claims) -> String {
        // Strings and integers always serialise.
        let json = serde_json::to_vec(claims).expect("claims serialise to JSON");
        let payload = URL_SAFE_NO_PAD.encode(json);
        let tag = self.mac(&payload).finalize().into_bytes();
        format!("{payload}.{}", URL_SAFE_NO_PAD.encode(tag))
    }

    /// Checks `receipt` and returns what it says, or why it is not one of ours.
    pub fn verify(&self, receipt: &str) -> Result<Verified, ReceiptError> {
        if receipt.len() > MAX_RECEIPT_CHARS {
            return Err(ReceiptError::Malformed("longer than any receipt"));
        }
        let (payload, tag) = receipt
            .split_once('.')
            .ok_or(ReceiptError::Malformed("no `.` between payload and tag"))?;
        let tag: [u8; TAG_BYTES] = URL_SAFE_NO_PAD
            .decode(tag)
            .ok()
            .and_then(|t| t.try_into().ok())
            .ok_or(ReceiptError::Malformed(
                "the tag is not 32 bytes of base64url",
            ))?;
        self.mac(payload)
            .verify_slice(&tag)
            .map_err(|_| ReceiptError::BadTag)?;
        // Authentic from here on: a payload that does not decode was signed by a build with
        // another format under the same key.
        let claims = URL_SAFE_NO_PAD
            .decode(payload)
            .ok()
            .and_then(|json| serde_json::from_slice(&json).ok())
            .ok_or(ReceiptError::Malformed(
                "the payload is not in this build's format",
            ))?;
        Ok(Verified { claims, tag })
    }

    fn mac(&self, payload: &str) -> HmacSha256 {
        // HMAC takes keys of any length.
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC accepts any key length");
        mac.update(DOMAIN);
        mac.update(payload.as_bytes());
        mac
    }
}

impl fmt::Debug for ReceiptKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ReceiptKey(<{} bytes, hidden>)", self.0.len())
    }
}

/// What a receipt states about one prediction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claims {
    /// The request that made the prediction (`X-Request-Id`).
    pub request_id: String,
    /// The sentence's index in a batch; absent for `POST /predict`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<u32>,
    /// The variant that answered.
    #[serde(with = "variant_name")]
    pub variant: Variant,
    /// The model that answered.
    pub model_version: String,
    /// The predicted label.
    pub label: String,
    /// When the receipt was issued, in seconds since the Unix epoch.
    pub issued_at: u64,
}

/// An authentic receipt: its claims and its tag (which identifies it, for replay detection).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// What the receipt says.
    pub claims: Claims,
    /// Its HMAC tag: unique per receipt, and unforgeable.
    pub tag: [u8; TAG_BYTES],
}

/// Why a receipt was refused. Either way nothing is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    /// Not shaped like a receipt.
    #[error("the receipt is malformed: {0}")]
    Malformed(&'static str),
    /// Shaped like one, but the tag does not match: forged, altered, or signed with another key.
    #[error(
        "the receipt's signature does not match: it was altered, forged or signed with another key"
    )]
    BadTag,
}

/// `Variant` as its name (`v1`, `v2`) in the payload.
mod variant_name {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::configuration::Variant;

    pub fn serialize<S: Serializer>(variant: &Variant, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(variant.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Variant, D::Error> {
        let name = <&str>::deserialize(deserializer)?;
        Variant::from_name(name).ok_or_else(|| serde::de::Error::custom("unknown variant"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    fn key() -> ReceiptKey {
        ReceiptKey::from_hex(KEY).unwrap()
    }

    fn claims() -> Claims {
        Claims {
            request_id: "0123456789abcdef0123456789abcdef".to_owned(),
            item: None,
            variant: Variant::V1,
            model_version: "a1b2c3d4e5f6".to_owned(),
            label: "happiness".to_owned(),
            issued_at: 1_700_000_000,
        }
    }

    fn split(receipt: &str) -> (String, String) {
        let (p, t) = receipt.split_once('.').unwrap();
        (p.to_owned(), t.to_owned())
    }

    #[test]
    fn a_receipt_round_trips() {
        for item in [None, Some(0), Some(63)] {
            let claims = Claims { item, ..claims() };
            let receipt = key().sign(&claims);
            let verified = key().verify(&receipt).unwrap();
            assert_eq!(verified.claims, claims);
            assert!(receipt.len() < 400, "{}", receipt.len());
            assert!(receipt
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)));
        }
    }

    #[test]
    fn changing_any_field_invalidates_the_receipt() {
        let original = claims();
        let mut altered = vec![
            Claims {
                request_id: "0123456789abcdef0123456789abcdee".to_owned(),
                ..original.clone()
            },
            Claims {
                item: Some(0),
                ..original.clone()
            },
            Claims {
                variant: Variant::V2,
                ..original.clone()
            },
            Claims {
                model_version: "000000000000".to_owned(),
                ..original.clone()
            },
            Claims {
                label: "anger".to_owned(),
                ..original.clone()
            },
            Claims {
                issued_at: original.issued_at + 86_400,
                ..original.clone()
            },
        ];
        let (_, tag) = split(&key().sign(&original));
        for claims in altered.drain(..) {
            // The altered payload with the original tag: what a client editing a receipt sends.
            let (payload, _) = split(&key().sign(&claims));
            let forged = format!("{payload}.{tag}");
            assert_eq!(
                key().verify(&forged),
                Err(ReceiptError::BadTag),
                "{claims:?}"
            );
        }
    }

    #[test]
    fn flipping_any_character_invalidates_the_receipt() {
        let receipt = key().sign(&claims());
        for i in 0..receipt.len() {
            let mut bytes = receipt.clone().into_bytes();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let tampered = String::from_utf8(bytes).unwrap();
            assert!(key().verify(&tampered).is_err(), "position {i}");
        }
    }

    #[test]
    fn another_key_does_not_verify() {
        let receipt = key().sign(&claims());
        let other = ReceiptKey::from_hex(&"ab".repeat(32)).unwrap();
        assert_eq!(other.verify(&receipt), Err(ReceiptError::BadTag));
    }

    #[test]
    fn garbage_and_truncations_are_refused() {
        let receipt = key().sign(&claims());
        let mut cases: Vec<String> = vec![
            String::new(),
            ".".to_owned(),
            "abc".to_owned(),
            "abc.def".to_owned(),
            "..".to_owned(),
            format!("{receipt}."),
            format!("{receipt}A"),
            format!(".{receipt}"),
            receipt.replace('.', ""),
            "é.é".to_owned(),
            "A".repeat(MAX_RECEIPT_CHARS + 1),
        ];
        for cut in [1, 10, receipt.len() / 2, receipt.len() - 1] {
            cases.push(receipt[..cut].to_owned());
            cases.push(receipt[cut..].to_owned());
        }
        for case in cases {
            assert!(key().verify(&case).is_err(), "{case:?}");
        }
    }

    #[test]
    fn a_signed_payload_in_another_format_is_refused_without_panicking() {
        // Only the key holder can make one; still no panic, and no claims.
        let payload = URL_SAFE_NO_PAD.encode(br#"{"request_id": 5}"#);
        let tag = URL_SAFE_NO_PAD.encode(key().mac(&payload).finalize().into_bytes());
        assert!(matches!(
            key().verify(&format!("{payload}.{tag}")),
            Err(ReceiptError::Malformed(_))
        ));
    }

    #[test]
    fn keys_must_be_long_hex_and_never_print() {
        assert!(ReceiptKey::from_hex(&"ab".repeat(31)).is_err());
        assert!(ReceiptKey::from_hex("xyz").is_err());
        assert!(ReceiptKey::from_hex(&"a".repeat(65)).is_err());
        assert!(ReceiptKey::from_hex(&format!(" {KEY}\n")).is_ok());
        let shown = format!("{:?}", key());
        assert!(!shown.contains("0102"), "{shown}");
        let error = ReceiptKey::from_hex(&"ab".repeat(31)).unwrap_err();
        assert!(!error.contains("abab"), "{error}");
    }

    #[test]
    fn verification_compares_tags_in_constant_time() {
        // `verify` must go through `Mac::verify_slice` (subtle's constant-time equality), never
        // `==` on the bytes: this test pins that the source says so.
        let source = include_str!("receipt.rs");
        let body = source
            .split("pub fn verify(")
            .nth(1)
            .and_then(|rest| rest.split("\n    }\n").next())
            .unwrap();
        assert!(body.contains(".verify_slice(&tag)"), "{body}");
        assert!(!body.contains("== tag") && !body.contains("tag =="));
    }
}
