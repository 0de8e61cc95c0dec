//! Canonical form and digest of an agreement version.
//!
//! The canonical form is the JSON Canonicalization Scheme (RFC 8785) serialisation of the
//! parsed agreement, wrapped with a format tag: `{"agreement": {...}, "format":
//! "compact-agreement/1"}`. It is computed from the model, not the file, so layout, key order,
//! comments, the notation of numbers (`2.5e9` or `2500000000`), the way the end is written
//! (`duration_years` or `ends_on`) and the order of clauses, commitments and tranches (all
//! sorted) do not change it; every change of meaning does.

use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::model::Agreement;

/// The format tag inside every canonical agreement.
pub const AGREEMENT_FORMAT: &str = "compact-agreement/1";

#[derive(Serialize)]
struct Envelope<'a> {
    format: &'static str,
    agreement: &'a Agreement,
}

/// Why a canonical form could not be made.
#[derive(Debug, thiserror::Error)]
#[error("cannot serialise the agreement canonically: {0}")]
pub struct CanonicalError(String);

/// The canonical bytes of an agreement version.
pub fn canonical_bytes(agreement: &Agreement) -> Result<Vec<u8>, CanonicalError> {
    serde_jcs::to_vec(&Envelope {
        format: AGREEMENT_FORMAT,
        agreement,
    })
    .map_err(|e| CanonicalError(e.to_string()))
}

/// The SHA-256 digest of the canonical bytes, in lower-case hex.
pub fn digest(agreement: &Agreement) -> Result<String, CanonicalError> {
    Ok(hex::encode(Sha256::digest(canonical_bytes(agreement)?)))
}
