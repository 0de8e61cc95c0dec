//! The API's types, versioned: what the CLI's `--format json` prints and the HTTP server
//! answers with.

pub mod v1;
pub mod v1log;
