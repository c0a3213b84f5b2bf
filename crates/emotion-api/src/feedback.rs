//! Feedback on predictions: issuing a receipt with each prediction and redeeming it once.
//!
//! [`Feedback`] joins the receipt key ([`crate::receipt`]), the replay ledger
//! ([`crate::replay`]) and the clock. It exists only when a key is configured
//! (`EMOTION_FEEDBACK_KEY` or `EMOTION_FEEDBACK_KEY_FILE`): without one, answers carry no receipt
//! and `POST /feedback` answers 501 `feedback_disabled`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::configuration::Variant;
use crate::error::ApiError;
use crate::receipt::{Claims, ReceiptKey, Verified};
use crate::replay::{Admission, ReplayLedger, DEFAULT_CAPACITY};

/// See the module documentation.
pub struct Feedback {
    key: ReceiptKey,
    max_age: Duration,
    ledger: ReplayLedger,
}

impl Feedback {
    /// Receipts signed with `key`, accepted for `max_age` after the prediction.
    pub fn new(key: ReceiptKey, max_age: Duration) -> Self {
        Feedback {
            key,
            max_age,
            ledger: ReplayLedger::new(DEFAULT_CAPACITY),
        }
    }

    /// The receipt of one prediction: the `item`-th sentence of a batch, or the only one.
    pub fn issue(
        &self,
        request_id: &str,
        item: Option<usize>,
        variant: Variant,
        model_version: &str,
        label: &str,
    ) -> String {
        self.key.sign(&Claims {
            request_id: request_id.to_owned(),
            // A batch is at most EMOTION_MAX_BATCH long, far below u32::MAX.
            item: item.map(|i| u32::try_from(i).unwrap_or(u32::MAX)),
            variant,
            model_version: model_version.to_owned(),
            label: label.to_owned(),
            issued_at: unix_now(),
        })
    }

    /// Checks a receipt's authenticity; counts nothing.
    pub fn verify(&self, receipt: &str) -> Result<Verified, ApiError> {
        self.key.verify(receipt).map_err(ApiError::InvalidReceipt)
    }

    /// Records `receipt` as counted, unless this replica counted it before or it is too old.
    pub fn redeem(&self, receipt: &Verified) -> Result<(), ApiError> {
        let max_age_secs = self.max_age.as_secs();
        match self.ledger.admit(
            receipt.claims.issued_at,
            &receipt.tag,
            unix_now(),
            max_age_secs,
        ) {
            Admission::Counted => Ok(()),
            Admission::AlreadyCounted => Err(ApiError::FeedbackAlreadyCounted),
            Admission::Expired => Err(ApiError::ReceiptExpired { max_age_secs }),
        }
    }
}

/// Seconds since the Unix epoch (0 for a clock set before it).
fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
