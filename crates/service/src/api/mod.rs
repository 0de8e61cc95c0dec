//! The API's types, versioned: what the CLI's `--format json` prints and the HTTP server
//! answers with.

pub mod v1;
