//! What the compact's commands do, as functions that take typed inputs and return plain
//! values or a [`ServiceError`]. The CLI and the HTTP server call them; they only parse input
//! and render output.
//!
//! **Invariant:** nothing here prints, reads the environment or reads a clock: the operator's
//! clock comes in as an [`OperatorClock`], findings and warnings go back as values.

pub mod anystore;
pub mod api;
pub mod bundle;
pub mod clock;
pub mod copy;
pub mod entries;
pub mod error;
pub mod keys;
pub mod ledger;
pub mod log;
pub mod measures;
pub mod mirror;
pub mod parse;
pub mod place;
pub mod remember;
pub mod reports;
pub mod stress;
pub mod suggest;
pub mod tracker;

pub use anystore::{AnyStore, Location};
pub use clock::OperatorClock;
pub use error::{ErrorKind, Result, ServiceError};
pub use place::{Governed, Place, STORE_FILE, Validated, drift_message, validate_dir};
