//! The closed classification every library error reports ([`ErrorKind`], after quickwit's
//! `ServiceErrorCode`): the doors (HTTP, CLI) decide status codes and exit codes from the kind
//! alone, once, and never by reading an error's text. A kind names the field for bad input, so
//! no caller has to recover it from a message.

use std::borrow::Cow;

/// What went wrong, in the terms a caller acts on. Closed on purpose: adding a kind means
/// deciding, in the one place that maps kinds, how every door answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request is malformed or a value is refused; `field` names the part when one can
    /// be named (`trigger`, `date_range`, `steps`).
    BadInput { field: Option<Cow<'static, str>> },
    /// No credentials, or unknown or expired ones.
    Unauthenticated,
    /// Known credentials without the right (role, grant, scope, or a missing CSRF token).
    Forbidden,
    /// The thing named does not exist.
    NotFound,
    /// The change clashes with what exists (a user that exists, the last admin).
    Conflict,
    /// The request is larger than allowed.
    TooLarge,
    /// Well-formed and valid, but not possible here (a funnel window the identity mode
    /// cannot honour); `field` as for [`ErrorKind::BadInput`].
    Unprocessable { field: Option<Cow<'static, str>> },
    /// Too many attempts; retry later.
    RateLimited,
    /// A dependency (the store, the ingest log, a worker) failed or is saturated; retrying
    /// may succeed. The cause is for the log, not for the caller.
    Unavailable,
    /// A broken invariant or a bug. The cause is for the log, not for the caller.
    Internal,
}

impl ErrorKind {
    /// Bad input in the named field.
    pub fn bad_input(field: impl Into<Cow<'static, str>>) -> ErrorKind {
        ErrorKind::BadInput {
            field: Some(field.into()),
        }
    }

    /// The field the kind names, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            ErrorKind::BadInput { field } | ErrorKind::Unprocessable { field } => field.as_deref(),
            _ => None,
        }
    }

    /// Whether the caller can fix it (the request was wrong), as opposed to the server.
    pub fn is_caller_error(&self) -> bool {
        !matches!(self, ErrorKind::Unavailable | ErrorKind::Internal)
    }
}

/// An error that reports its [`ErrorKind`]. Every library error type implements it.
pub trait HasKind: std::fmt::Display {
    fn kind(&self) -> ErrorKind;
}

impl HasKind for crate::SiteError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::bad_input(match self {
            crate::SiteError::Domain(_) => "domain",
            crate::SiteError::Timezone(_) => "timezone",
        })
    }
}

impl HasKind for crate::DefinitionError {
    /// Bad input in the definition's top-level field (`steps[2]` → `steps`); a valid
    /// definition this configuration cannot honour is unprocessable.
    fn kind(&self) -> ErrorKind {
        let field = Some(Cow::Owned(self.top_field().to_string()));
        if self.unsupported {
            ErrorKind::Unprocessable { field }
        } else {
            ErrorKind::BadInput { field }
        }
    }
}

impl HasKind for crate::TriggerError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::bad_input("trigger")
    }
}

impl HasKind for crate::SinkError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Unavailable
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DefinitionError;

    #[test]
    fn definition_errors_name_their_top_level_field() {
        let e = DefinitionError::new("steps[2]", "no conversion \"X\"");
        assert_eq!(e.kind(), ErrorKind::bad_input("steps"));
        assert_eq!(e.kind().field(), Some("steps"));
        let e = DefinitionError::unsupported("window", "needs consented mode");
        assert!(matches!(e.kind(), ErrorKind::Unprocessable { field: Some(f) } if f == "window"));
        let site = crate::Site::new("a.example", "Mars/Base").unwrap_err();
        assert_eq!(site.kind().field(), Some("timezone"));
        assert!(!ErrorKind::Unavailable.is_caller_error());
        assert!(ErrorKind::NotFound.is_caller_error());
    }
}
