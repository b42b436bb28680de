//! The way down: two contracts every backend implements — [`EventStore`] (appends and the
//! analytical queries, planned once in [`plan`] and rendered per backend by [`sql`]) and
//! [`ConfigStore`] (sites, definitions, accounts: rows updated in place) — and [`open`], the
//! one place a backend is chosen. The embedded default keeps both in one DuckDB file
//! ([`duck::DuckStore`]); the scale-out deployment pairs an events engine with a database for
//! configuration, as Plausible pairs ClickHouse with PostgreSQL. The contract suite
//! (`tests/contract.rs`) is written once against the traits.

pub mod accounts;
pub mod duck;
pub mod error;
pub mod funnel_eval;
pub mod plan;
pub mod query;
pub mod schema;
pub mod sink;
pub mod sql;

use std::path::PathBuf;
use std::sync::Arc;

pub use accounts::{ApiKey, LoginSession, SharedLink, User};
pub use error::StoreError;
pub use query::Table;
pub use sink::StoreSink;

use waymark_core::{
    Change, Conversion, ConversionCounts, ConversionQuery, Event, Funnel, FunnelCounts,
    FunnelQuery, Site,
};

/// Events: batched appends, the analytical queries Waymark runs, and upkeep. Implementations
/// are shared between threads; every method may block on I/O.
pub trait EventStore: Send + Sync {
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
    /// Visitors, events and revenue matching each trigger, matched over raw events.
    fn conversion_counts(&self, query: &ConversionQuery) -> Result<ConversionCounts, StoreError>;
    /// Visitors reaching each funnel step (semantics: `docs/funnels.md`).
    fn funnel(&self, query: &FunnelQuery) -> Result<FunnelCounts, StoreError>;

    /// Deletes every event (and pre-computed row) of a site.
    fn delete_site_events(&self, domain: &str) -> Result<(), StoreError>;
    /// Runs an operator's SQL in the backend's own dialect (`waymark sql`).
    fn sql(&self, query: &str) -> Result<Table, StoreError>;
    /// Background upkeep: compacts finished visits and bounds the backend's logs.
    fn maintain(&self) -> Result<(), StoreError>;
    /// Flushes everything (at shutdown).
    fn checkpoint(&self) -> Result<(), StoreError>;
}

/// Configuration: sites, conversion and funnel definitions, users, login sessions, per-site
/// grants, API keys and shared links — the rows that are updated in place.
pub trait ConfigStore: Send + Sync {
    /// Creates a site, or updates its time zone when it exists.
    fn add_site(&self, site: &Site) -> Result<(), StoreError>;
    /// Deletes a site's row, definitions, grants and shared links. Returns whether it existed.
    fn delete_site_config(&self, domain: &str) -> Result<bool, StoreError>;
    /// All sites, by domain.
    fn sites(&self) -> Result<Vec<Site>, StoreError>;
    /// One site by domain.
    fn site(&self, domain: &str) -> Result<Option<Site>, StoreError> {
        Ok(self.sites()?.into_iter().find(|s| s.domain == domain))
    }

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

    /// Every `(email, site)` grant, ordered by email then site.
    fn grants(&self) -> Result<Vec<(String, String)>, StoreError>;
    /// The sites granted to one user.
    fn grants_of(&self, email: &str) -> Result<Vec<String>, StoreError> {
        Ok(self
            .grants()?
            .into_iter()
            .filter(|(e, _)| e == email)
            .map(|(_, s)| s)
            .collect())
    }
    /// Grants a user read access to a site. Returns whether the grant is new.
    fn grant(&self, email: &str, site: &str) -> Result<bool, StoreError>;
    /// Removes a grant. Returns whether it existed.
    fn revoke(&self, email: &str, site: &str) -> Result<bool, StoreError>;
    /// Replaces all of a user's grants.
    fn set_grants(&self, email: &str, sites: &[String]) -> Result<(), StoreError>;

    /// Stores a new API key.
    fn save_api_key(&self, key: &ApiKey) -> Result<(), StoreError>;
    /// All API keys, oldest first.
    fn api_keys(&self) -> Result<Vec<ApiKey>, StoreError>;
    /// The key with this digest.
    fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKey>, StoreError>;
    /// Deletes a key. Returns whether it existed.
    fn delete_api_key(&self, id: &str) -> Result<bool, StoreError>;
    /// Records that a key was used.
    fn touch_api_key(&self, id: &str, used_ms: i64) -> Result<(), StoreError>;

    /// Stores a new shared link.
    fn save_shared_link(&self, link: &SharedLink) -> Result<(), StoreError>;
    /// A site's shared links, oldest first.
    fn shared_links(&self, site: &str) -> Result<Vec<SharedLink>, StoreError>;
    /// The link with this token.
    fn shared_link_by_token(&self, token: &str) -> Result<Option<SharedLink>, StoreError>;
    /// Deletes a site's link. Returns whether it existed.
    fn delete_shared_link(&self, site: &str, id: &str) -> Result<bool, StoreError>;
}

/// Both contracts, as the server and the CLI use them. Every pair of an [`EventStore`] and a
/// [`ConfigStore`] is one.
pub trait Store: EventStore + ConfigStore {
    /// Deletes a site with its events, definitions, grants and shared links. Returns whether
    /// it existed.
    fn remove_site(&self, domain: &str) -> Result<bool, StoreError> {
        self.delete_site_events(domain)?;
        self.delete_site_config(domain)
    }
}

impl<T: EventStore + ConfigStore> Store for T {}

/// Which backend, and its settings: the one thing [`open`] reads.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreConfig {
    /// The data directory (the embedded store's file lives there).
    pub data_dir: PathBuf,
    /// DuckDB `memory_limit`, e.g. `256MB`.
    pub memory_limit: String,
    /// DuckDB worker threads.
    pub threads: u32,
}

impl StoreConfig {
    /// The embedded store in `data_dir` with the shipped defaults.
    pub fn embedded(data_dir: impl Into<PathBuf>) -> StoreConfig {
        let d = duck::DuckOptions::default();
        StoreConfig {
            data_dir: data_dir.into(),
            memory_limit: d.memory_limit,
            threads: d.threads,
        }
    }
}

/// Opens (creating and migrating) the store `config` names. The only place a backend is chosen.
pub fn open(config: &StoreConfig) -> Result<Arc<dyn Store>, StoreError> {
    let store = duck::DuckStore::open(
        &config.data_dir,
        duck::DuckOptions {
            memory_limit: config.memory_limit.clone(),
            threads: config.threads,
            ..duck::DuckOptions::default()
        },
    )?;
    Ok(Arc::new(store))
}
