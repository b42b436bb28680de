//! Shared state behind every route.

use std::sync::Arc;

use waymark_collect::ingest_log::LogHandle;
use waymark_collect::Collector;
use waymark_store::Store;

use crate::access::Clock;
use crate::ServerConfig;

/// What handlers see.
pub struct AppState {
    pub config: ServerConfig,
    pub collector: Arc<Collector>,
    pub log: LogHandle,
    pub store: Arc<dyn Store>,
    /// The time sessions, keys and unlock cookies are checked against.
    pub clock: Clock,
}
