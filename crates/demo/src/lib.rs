//! Waymark's demo shop: ~90 days of realistic traffic for an outdoor-gear store, generated as the
//! tracker's own request bodies and run through the live collector (enrichment, GeoIP, visitor
//! identity with per-day salts, sessions); plus varied raw requests for the ingest benchmark.
//!
//! The traffic follows the micro-conversions article: about 45% of visits view a product, 12% of
//! those add to cart (the weakest step), 65% of carts reach checkout and 70% of checkouts buy.
//! Sources differ (social views a lot and buys little, email goes straight to checkout, paid search
//! converts above average), and one change is planted: in the last 14 days mobile visitors from
//! social networks add to cart far less often, while other segments stay put.
//!
//! ```no_run
//! # fn main() -> Result<(), waymark_demo::DemoError> {
//! use waymark_collect::{salt::SaltStore, Collector};
//! let geo = std::env::temp_dir().join("demo-geo.mmdb");
//! waymark_demo::write_geo_db(&geo)?;
//! let collector = Collector::new(SaltStore::in_memory(), Some(&geo))
//!     .map_err(|e| waymark_demo::DemoError::Invalid(e.to_string()))?;
//! let opts = waymark_demo::DemoOptions::default();
//! let mut stored = Vec::new();
//! let summary = waymark_demo::generate(
//!     &opts,
//!     &collector,
//!     &mut |events| {
//!         stored.extend(events);
//!         Ok(())
//!     },
//!     &|_done, _total| {},
//! )?;
//! println!("{} events in {} visits", summary.events, summary.visits);
//! # Ok(())
//! # }
//! ```

mod agents;
mod catalog;
mod generate;
mod geo;
mod journey;
mod live;
mod random;
mod sample;
mod traffic;

pub use generate::generate;
pub use geo::write_geo_db;
pub use live::{LiveTraffic, LiveVisit};
pub use sample::{sample_requests, SampleRequest};

/// The demo site's domain.
pub const DEMO_SITE: &str = "demo.waymark.local";

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoOptions {
    /// The site's domain (normalised as the Events API does).
    pub site: String,
    /// Length of the window ending at `end_ms`, in days.
    pub days: u32,
    /// Approximate number of stored events (the result lands within a few percent).
    pub events: u64,
    /// The same seed gives the same events.
    pub seed: u64,
    /// End of the window (usually now), ms since the Unix epoch.
    pub end_ms: i64,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            site: DEMO_SITE.to_string(),
            days: 90,
            events: 500_000,
            seed: 7,
            end_ms: chrono::Utc::now().timestamp_millis(),
        }
    }
}

/// What [`generate`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DemoSummary {
    /// Events accepted by the collector and handed to the sink.
    pub events: u64,
    /// Human visits generated.
    pub visits: u64,
    /// Requests the collector dropped (crawlers).
    pub dropped: u64,
}

/// Why the demo could not be generated.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("demo: {0}")]
    Io(#[from] std::io::Error),
    #[error("demo GeoIP database: {0}")]
    Geo(String),
    #[error("demo events could not be stored: {0}")]
    Sink(String),
    #[error("demo: {0}")]
    Invalid(String),
}
