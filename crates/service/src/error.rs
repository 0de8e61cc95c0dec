//! What went wrong, in the classes a caller acts on: its own input, a rule's refusal, a thing
//! that does not exist, a failure that may pass, or a fault of ours.

use std::error::Error;
use std::fmt;

use compact_store::{AppendError, StoreError};

/// The stable code of a refusal by the log's rules (`compact_statement::rules`).
pub const REFUSED_BY_RULE: &str = "rule";
/// The stable code of a refusal to overwrite a key file or a party's root key.
pub const REFUSED_KEY_EXISTS: &str = "key-exists";
/// The stable code of a refusal to name a second operator key.
pub const REFUSED_OPERATOR_KEY_SET: &str = "operator-key-set";

/// The class of a [`ServiceError`]; the HTTP server maps it to a status, the CLI to an exit
/// code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The caller's input is malformed or does not fit the compact (HTTP 400).
    BadInput,
    /// A rule refused it; `code` is stable and machine-readable (HTTP 409).
    Refused {
        /// One of the `REFUSED_*` constants.
        code: &'static str,
    },
    /// What was asked for does not exist (HTTP 404).
    NotFound,
    /// A failure that may pass (a busy store, the log growing meanwhile, IO): nothing was
    /// refused and nothing partial written; the same request may succeed again (HTTP 503).
    Transient,
    /// Anything else: a corrupt store, a fault (HTTP 500).
    Internal,
}

/// An error of a service function: its class, a message for people, and what caused it.
///
/// `Display` shows the message alone; the cause is [`Error::source`], so that a caller that
/// prints the chain (`anyhow`'s `{:#}`) shows `message: cause`.
#[derive(Debug)]
pub struct ServiceError {
    kind: ErrorKind,
    message: String,
    source: Option<Box<dyn Error + Send + Sync + 'static>>,
}

impl ServiceError {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ServiceError {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// Bad input.
    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadInput, message)
    }

    /// A refusal with its stable code.
    pub fn refused(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Refused { code }, message)
    }

    /// Not found.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    /// A fault of ours.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    /// `message`, caused by `self`; the class stays `self`'s.
    #[must_use]
    pub fn context(self, message: impl Into<String>) -> Self {
        ServiceError {
            kind: self.kind,
            message: message.into(),
            source: Some(Box::new(self)),
        }
    }

    /// `message` of `kind`, caused by `source`.
    pub fn caused(
        kind: ErrorKind,
        message: impl Into<String>,
        source: impl Error + Send + Sync + 'static,
    ) -> Self {
        ServiceError {
            kind,
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }

    /// The class.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message, without its cause.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether the same request may succeed when made again.
    pub fn is_transient(&self) -> bool {
        self.kind == ErrorKind::Transient
    }

    /// The refusal's stable code, if a rule refused.
    pub fn refusal_code(&self) -> Option<&'static str> {
        match self.kind {
            ErrorKind::Refused { code } => Some(code),
            _ => None,
        }
    }

    /// The HTTP status this error answers with.
    pub fn http_status(&self) -> u16 {
        match self.kind {
            ErrorKind::BadInput => 400,
            ErrorKind::Refused { .. } => 409,
            ErrorKind::NotFound => 404,
            ErrorKind::Transient => 503,
            ErrorKind::Internal => 500,
        }
    }
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl Error for ServiceError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn Error + 'static))
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        let kind = if e.is_transient() {
            ErrorKind::Transient
        } else {
            ErrorKind::Internal
        };
        ServiceError::new(kind, e.to_string())
    }
}

/// A refusal says `refused:`; a store failure keeps its class (a transient one may pass).
impl From<AppendError> for ServiceError {
    fn from(e: AppendError) -> Self {
        match e {
            AppendError::Refused { code, .. } => {
                ServiceError::refused(code.as_str(), format!("refused: {e}"))
            }
            AppendError::Store(s) => s.into(),
            AppendError::Log(s) => ServiceError::internal(s),
        }
    }
}

/// What the engine refuses to compute follows from what was asked (a date before the
/// compact, a year without GDP figures, a value the compact has no rate for).
impl From<compact_engine::EngineError> for ServiceError {
    fn from(e: compact_engine::EngineError) -> Self {
        ServiceError::bad_input(e.to_string())
    }
}

impl From<compact_log::LogError> for ServiceError {
    fn from(e: compact_log::LogError) -> Self {
        ServiceError::bad_input(e.to_string())
    }
}

impl From<compact_statement::StatementError> for ServiceError {
    fn from(e: compact_statement::StatementError) -> Self {
        ServiceError::bad_input(e.to_string())
    }
}

/// A service function's result.
pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// Adds a message to an error, as `anyhow`'s `Context` does.
pub trait Context<T> {
    /// `message`, caused by the error.
    fn context(self, message: impl Into<String>) -> Result<T>;
    /// [`Context::context`], the message made only on error.
    fn with_context<M: Into<String>>(self, message: impl FnOnce() -> M) -> Result<T>;
}

impl<T, E: Into<ServiceError>> Context<T> for std::result::Result<T, E> {
    fn context(self, message: impl Into<String>) -> Result<T> {
        self.map_err(|e| e.into().context(message))
    }
    fn with_context<M: Into<String>>(self, message: impl FnOnce() -> M) -> Result<T> {
        self.map_err(|e| e.into().context(message()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_map_to_statuses_and_keep_their_cause() {
        let busy: ServiceError = StoreError::Transient("database is locked".into()).into();
        assert!(busy.is_transient());
        assert_eq!(busy.http_status(), 503);
        let outer = busy.context("cannot open the store x");
        assert!(outer.is_transient(), "context keeps the class");
        assert_eq!(outer.to_string(), "cannot open the store x");
        assert_eq!(
            outer.source().map(ToString::to_string).as_deref(),
            Some("database is locked")
        );
        let refused: ServiceError = AppendError::Refused {
            position: 0,
            code: compact_statement::rules::Code::Role,
            reason: "no".into(),
        }
        .into();
        assert_eq!(refused.refusal_code(), Some("role"));
        assert_eq!(refused.to_string(), "refused: statement 0: no");
        assert_eq!(refused.http_status(), 409);
        assert_eq!(ServiceError::not_found("x").http_status(), 404);
        assert_eq!(ServiceError::bad_input("x").http_status(), 400);
        let corrupt: ServiceError = StoreError::Corrupt("bad".into()).into();
        assert_eq!(corrupt.kind(), ErrorKind::Internal);
    }
}
