//! Why an access rule refused: each reason reports its [`ErrorKind`], so the HTTP routes and
//! the CLI answer it the same way without knowing the rule.

use std::borrow::Cow;

use waymark_core::{ErrorKind, HasKind};
use waymark_store::StoreError;

/// A refused credential, permission or account change.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// No credentials, or unknown or expired ones.
    #[error("{0}")]
    Unauthenticated(String),
    /// Known credentials without the role, grant or scope (the message names which).
    #[error("{0}")]
    Forbidden(String),
    /// A value the rules refuse, in the named field (`email`, `password`, `scopes`).
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// The change clashes with what exists (the user exists, the last admin).
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    NotFound(String),
    /// The password hasher failed (a bug or a broken platform RNG, never the user's input).
    #[error("password hashing failed: {0}")]
    Hashing(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AccessError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> AccessError {
        AccessError::Invalid {
            field,
            message: message.into(),
        }
    }

    pub fn forbidden(message: impl Into<String>) -> AccessError {
        AccessError::Forbidden(message.into())
    }
}

impl HasKind for AccessError {
    fn kind(&self) -> ErrorKind {
        match self {
            AccessError::Unauthenticated(_) => ErrorKind::Unauthenticated,
            AccessError::Forbidden(_) => ErrorKind::Forbidden,
            AccessError::Invalid { field, .. } => ErrorKind::BadInput {
                field: Some(Cow::Borrowed(field)),
            },
            AccessError::Conflict(_) => ErrorKind::Conflict,
            AccessError::NotFound(_) => ErrorKind::NotFound,
            AccessError::Hashing(_) => ErrorKind::Internal,
            AccessError::Store(e) => e.kind(),
        }
    }
}
