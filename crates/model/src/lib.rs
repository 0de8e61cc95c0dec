//! The compact's data model.
//!
//! Reads the compact's files (handed over as strings: this crate does no IO), validates them
//! reporting every problem with its place, and gives the canonical form and digest of each
//! agreement version. See `docs/format.md` for the file format.

pub mod amount;
pub mod canonical;
pub mod diag;
pub mod model;
mod raw;
pub mod summary;
pub mod validate;
pub mod value;

pub use amount::{Amount, AmountError};
pub use canonical::{canonical_bytes, digest};
pub use diag::{Diagnostic, Severity};
pub use model::*;
pub use validate::{Checked, SourceFile, agreement_alone, check};
