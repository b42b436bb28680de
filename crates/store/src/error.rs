//! Store errors, without backend types in their shape.

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend refused or failed a statement.
    #[error("store backend: {0}")]
    Backend(String),
    /// The data directory is held by another process (e.g. a running server).
    #[error("the store at {0} is in use by another process (is `waymark serve` running on this data directory?)")]
    Locked(String),
    /// The store was written by a newer Waymark.
    #[error("store schema version {found} is newer than this binary supports ({supported}); upgrade Waymark")]
    TooNew { found: i64, supported: i64 },
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("{0}")]
    Io(String),
}

impl waymark_core::HasKind for StoreError {
    /// A refused request is the caller's; everything else is the store's, and retrying (once
    /// the other process lets go, or the backend recovers) may succeed. A newer schema needs
    /// an operator, not a retry.
    fn kind(&self) -> waymark_core::ErrorKind {
        use waymark_core::ErrorKind;
        match self {
            StoreError::Invalid(_) => ErrorKind::BadInput { field: None },
            StoreError::TooNew { .. } => ErrorKind::Internal,
            StoreError::Backend(_) | StoreError::Locked(_) | StoreError::Io(_) => {
                ErrorKind::Unavailable
            }
        }
    }
}

impl From<duckdb::Error> for StoreError {
    fn from(e: duckdb::Error) -> Self {
        StoreError::Backend(e.to_string())
    }
}
