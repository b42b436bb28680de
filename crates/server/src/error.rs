//! Every error answer is decided here. A library error reports its [`ErrorKind`]
//! ([`waymark_core::HasKind`]); `?` turns it into an [`ApiError`]; [`status`] is the one
//! mapping from kinds to HTTP status codes, and the body is `{"error": "...", "field": "..."}`
//! with the field taken from the kind. Errors of the server's own (unavailable, internal)
//! answer a fixed text and leave their cause in the log: a 5xx never carries internal text.

use std::borrow::Cow;

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde::Serialize;
use waymark_core::{ErrorKind, HasKind};

/// An error answer: what kind of failure, and what to say (or, for the server's own
/// failures, what to log).
#[derive(Debug)]
pub struct ApiError {
    kind: ErrorKind,
    message: String,
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

/// The one mapping from kinds to HTTP status codes.
pub fn status(kind: &ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::BadInput { .. } => StatusCode::BAD_REQUEST,
        ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Every library error converts with `?`, keeping its kind and its message.
impl<E: HasKind> From<E> for ApiError {
    fn from(e: E) -> ApiError {
        ApiError::new(e.kind(), e.to_string())
    }
}

impl ApiError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> ApiError {
        ApiError {
            kind,
            message: message.into(),
        }
    }

    /// Bad input in `field`.
    pub fn bad_field(field: impl Into<Cow<'static, str>>, message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorKind::bad_input(field), message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorKind::NotFound, message)
    }

    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorKind::Conflict, message)
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorKind::Forbidden, message)
    }

    pub fn unauthenticated(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorKind::Unauthenticated, message)
    }

    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The message as the caller would see it (for the server's own failures, the cause
    /// that only the log gets).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The status and the text to show; the server's own failures are logged here with their
    /// cause and shown as a fixed text.
    pub fn public(&self) -> (StatusCode, &str) {
        let shown = match self.kind {
            ErrorKind::Unavailable => {
                tracing::error!(error = %self.message, "request failed: unavailable");
                "temporarily unavailable; retry shortly (the server log has the cause)"
            }
            ErrorKind::Internal => {
                tracing::error!(error = %self.message, "request failed: internal error");
                "internal error; the server log has the cause"
            }
            _ => &self.message,
        };
        (status(&self.kind), shown)
    }
}

/// Runs blocking work (DuckDB calls, argon2) on the blocking pool; its error keeps its kind.
/// A worker that panicked is a bug (internal); one cancelled at shutdown is unavailable.
pub async fn off_thread<T: Send + 'static, E: Into<ApiError> + Send + 'static>(
    f: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, ApiError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r.map_err(Into::into),
        Err(e) if e.is_panic() => Err(ApiError::new(ErrorKind::Internal, e.to_string())),
        Err(e) => Err(ApiError::new(ErrorKind::Unavailable, e.to_string())),
    }
}

/// A JSON request body, refused as bad input in `body` when it does not fit `T`.
pub fn json_body<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_field("body", format!("invalid JSON body: {e}")))
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, shown) = self.public();
        let body = Body {
            error: shown,
            field: self.kind.field(),
        };
        let mut resp = (status, axum::Json(body)).into_response();
        if self.kind == ErrorKind::Unavailable {
            // Nothing was done: the caller may retry, after a moment.
            resp.headers_mut()
                .insert("retry-after", HeaderValue::from_static("1"));
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_failures_hide_their_cause() {
        let e = ApiError::new(ErrorKind::Internal, "argon2: secret detail");
        assert_eq!(
            e.public(),
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error; the server log has the cause"
            )
        );
        let e: ApiError = waymark_store::StoreError::Backend("IO Error: disk".into()).into();
        assert_eq!(e.public().0, StatusCode::SERVICE_UNAVAILABLE);
        assert!(!e.public().1.contains("disk"));
        let e: ApiError = waymark_core::DefinitionError::new("steps[3]", "unknown").into();
        assert_eq!(e.public().0, StatusCode::BAD_REQUEST);
        assert_eq!(e.kind().field(), Some("steps"));
        assert_eq!(e.public().1, "steps[3]: unknown");
        // A store failure reached through insight is the store's: 503, like everywhere.
        let e: ApiError = waymark_insight::InsightError::Store(waymark_store::StoreError::Backend(
            "Connection Error: gone".into(),
        ))
        .into();
        assert_eq!(e.public().0, StatusCode::SERVICE_UNAVAILABLE);
        let e: ApiError = waymark_collect::ingest_log::LogError::Busy.into();
        assert_eq!(e.public().0, StatusCode::SERVICE_UNAVAILABLE);
        let e: ApiError = waymark_collect::PayloadError {
            field: "name",
            message: "is required".into(),
        }
        .into();
        assert_eq!(
            (e.public().0, e.kind().field()),
            (StatusCode::BAD_REQUEST, Some("name"))
        );
        let resp = ApiError::new(ErrorKind::Unavailable, "disk full").into_response();
        assert_eq!(resp.headers()["retry-after"], "1");
    }
}
