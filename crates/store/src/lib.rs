//! The way down: [`EventStore`], the one interface every backend implements, and the embedded
//! DuckDB backend ([`duck::DuckStore`]). Nothing backend-specific crosses this interface, so a
//! ClickHouse backend can implement it unchanged; contract tests in `tests/contract.rs` are
//! written once against the trait.

pub mod accounts;
pub mod duck;
pub mod error;
pub mod funnel_eval;
pub mod plan;
pub mod query;
pub mod schema;
pub mod sink;
pub mod sql;

pub use accounts::{AccessStore, ApiKey, LoginSession, SharedLink, User};
pub use error::StoreError;
pub use query::Table;
pub use sink::StoreSink;

use waymark_core::{
    Change, Conversion, ConversionCounts, ConversionQuery, Event, Funnel, FunnelCounts,
    FunnelQuery, Site,
};

/// An event store: sites, batched appends, and the analytical queries Waymark runs.
/// Implementations are shared between threads; every method may block on I/O.
pub trait EventStore: AccessStore + Send + Sync {
    /// Creates a site, or updates its time zone when it exists.
    fn add_site(&self, site: &Site) -> Result<(), StoreError>;
    /// Deletes a site with its events, definitions, grants and shared links. Returns whether it existed.
    fn remove_site(&self, domain: &str) -> Result<bool, StoreError>;
    /// All sites, by domain.
    fn sites(&self) -> Result<Vec<Site>, StoreError>;
    /// One site by domain.
    fn site(&self, domain: &str) -> Result<Option<Site>, StoreError> {
        Ok(self.sites()?.into_iter().find(|s| s.domain == domain))
    }

    /// Bulk append (imports, the demo generator). Atomic per call.
    fn append(&self, events: &[Event]) -> Result<(), StoreError>;
    /// Appends events from the ingest log and records `last_seq` in the same transaction.
    fn append_logged(&self, events: &[Event], last_seq: u64) -> Result<(), StoreError>;
    /// The highest ingest-log sequence number stored.
    fn applied_seq(&self) -> Result<u64, StoreError>;

    /// Idempotency keys stored since `since_ms`, so retries are recognised after a restart.
    fn idempotency_keys(&self, since_ms: i64) -> Result<Vec<String>, StoreError>;
    /// `(site, visitor_id, session_id, last_ms)` of sessions active since `since_ms`.
    fn recent_sessions(&self, since_ms: i64) -> Result<Vec<(String, u64, u64, i64)>, StoreError>;

    /// The Stats API's aggregate query: metrics per dimension values, filtered, ordered, paged.
    fn aggregate(
        &self,
        query: &waymark_core::query::AggregateQuery,
    ) -> Result<waymark_core::query::AggregateResult, StoreError>;

    /// Creates or replaces a site's conversion definition by name.
    fn save_conversion(&self, site: &str, conversion: &Conversion) -> Result<Change, StoreError>;
    /// A site's conversion definitions, oldest first.
    fn conversions(&self, site: &str) -> Result<Vec<Conversion>, StoreError>;
    /// Deletes a conversion definition. Returns whether it existed.
    fn delete_conversion(&self, site: &str, name: &str) -> Result<bool, StoreError>;
    /// Creates or replaces a site's funnel definition by name.
    fn save_funnel(&self, site: &str, funnel: &Funnel) -> Result<Change, StoreError>;
    /// A site's funnel definitions, oldest first.
    fn funnels(&self, site: &str) -> Result<Vec<Funnel>, StoreError>;
    /// Deletes a funnel definition. Returns whether it existed.
    fn delete_funnel(&self, site: &str, name: &str) -> Result<bool, StoreError>;
    /// Visitors, events and revenue matching each trigger, matched over raw events.
    fn conversion_counts(&self, query: &ConversionQuery) -> Result<ConversionCounts, StoreError>;
    /// Visitors reaching each funnel step (semantics: `docs/funnels.md`).
    fn funnel(&self, query: &FunnelQuery) -> Result<FunnelCounts, StoreError>;

    /// Creates a user, or replaces the password and role of an existing one. Returns whether
    /// the user is new.
    fn save_user(&self, user: &User) -> Result<bool, StoreError>;
    /// All users, by email.
    fn users(&self) -> Result<Vec<User>, StoreError>;
    /// One user by email (lower-cased).
    fn user(&self, email: &str) -> Result<Option<User>, StoreError> {
        Ok(self.users()?.into_iter().find(|u| u.email == email))
    }
    /// Deletes a user and their sessions. Returns whether the user existed.
    fn remove_user(&self, email: &str) -> Result<bool, StoreError>;
    /// Stores a login session (and drops sessions that expired before its creation).
    fn create_session(&self, session: &LoginSession) -> Result<(), StoreError>;
    /// A session by the hash of its id, expired or not.
    fn session(&self, id_hash: &str) -> Result<Option<LoginSession>, StoreError>;
    /// Deletes a session. Returns whether it existed.
    fn delete_session(&self, id_hash: &str) -> Result<bool, StoreError>;

    /// Background upkeep: clusters recent rows by site and time and bounds the store's WAL.
    fn maintain(&self) -> Result<(), StoreError>;
    /// Flushes everything to the main file (at shutdown).
    fn checkpoint(&self) -> Result<(), StoreError>;
}
