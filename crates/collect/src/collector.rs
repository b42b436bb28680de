//! The ingest pipeline from a validated payload to stored-shape events: bot filter, site check,
//! enrichment (source, channel, UTM, device, geo), visitor id and session. The demo generator
//! runs the very same code with generated timestamps and per-day salts.

use std::collections::HashSet;
use std::net::IpAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use parking_lot::{Mutex, RwLock};
use waymark_core::Event;
use waymark_enrich::{
    channel::channel, geo::GeoDb, referrer::classify_referrer, source::source_name,
    useragent::UaParser, utm::utm_from_url,
};

use crate::payload::Payload;
use crate::salt::{Salt, SaltError, SaltStore};
use crate::session::Sessionizer;

/// What the HTTP layer knows about a request besides its body. The IP lives only here.
#[derive(Debug, Clone)]
pub struct RequestMeta {
    pub ip: IpAddr,
    pub user_agent: String,
    /// Server receive time (or the explicit timestamp of an authenticated sender).
    pub timestamp_ms: i64,
}

/// Why an event was deliberately not stored (the sender still gets 202).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    Bot,
    UnknownSite,
    Duplicate,
}

impl DropReason {
    /// The value of the `x-waymark-dropped` response header.
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::Bot => "bot",
            DropReason::UnknownSite => "unknown_site",
            DropReason::Duplicate => "duplicate",
        }
    }
}

/// The result of processing one request.
#[derive(Debug)]
pub enum Outcome {
    /// One event per known site named in the request.
    Accepted(Vec<Event>),
    Dropped(DropReason),
}

/// Why the pipeline itself failed (not the sender's fault).
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error(transparent)]
    Salt(#[from] SaltError),
    #[error("user agent parser: {0}")]
    UserAgent(String),
    #[error("GeoIP database: {0}")]
    Geo(String),
}

impl waymark_core::HasKind for CollectError {
    /// The pipeline's own failure, never the sender's: retrying may succeed.
    fn kind(&self) -> waymark_core::ErrorKind {
        waymark_core::ErrorKind::Unavailable
    }
}

/// Counters exported at `/metrics`.
#[derive(Debug, Default)]
pub struct Metrics {
    pub accepted: AtomicU64,
    pub dropped_bot: AtomicU64,
    pub dropped_unknown_site: AtomicU64,
    pub dropped_duplicate: AtomicU64,
    pub rejected_invalid: AtomicU64,
}

impl Metrics {
    fn count_drop(&self, r: DropReason) {
        let c = match r {
            DropReason::Bot => &self.dropped_bot,
            DropReason::UnknownSite => &self.dropped_unknown_site,
            DropReason::Duplicate => &self.dropped_duplicate,
        };
        c.fetch_add(1, Ordering::Relaxed);
    }
}

/// The shared enrichment and identity state.
pub struct Collector {
    ua: UaParser,
    geo: Option<GeoDb>,
    salts: SaltStore,
    sessions: Mutex<Sessionizer>,
    sites: RwLock<HashSet<String>>,
    idempotency: Mutex<HashSet<String>>,
    /// Drop headless browsers ("HeadlessChrome") as bots; off by default, see [`Collector::set_drop_headless`].
    drop_headless: AtomicBool,
    pub metrics: Metrics,
}

impl Collector {
    /// Builds the pipeline. `geoip` is an optional MaxMind-format database.
    pub fn new(salts: SaltStore, geoip: Option<&Path>) -> Result<Collector, CollectError> {
        let ua = UaParser::new().map_err(|e| CollectError::UserAgent(e.to_string()))?;
        let geo = geoip
            .map(GeoDb::open)
            .transpose()
            .map_err(|e| CollectError::Geo(e.to_string()))?;
        Ok(Collector {
            ua,
            geo,
            salts,
            sessions: Mutex::new(Sessionizer::new()),
            sites: RwLock::new(HashSet::new()),
            idempotency: Mutex::new(HashSet::new()),
            drop_headless: AtomicBool::new(false),
            metrics: Metrics::default(),
        })
    }

    /// Whether headless browsers count. By default they do: the tracker already skips automated
    /// browsers (`navigator.webdriver`), and a headless browser that runs the page's script is
    /// often a site owner's own check. Operators who see scraper traffic switch this on.
    pub fn set_drop_headless(&self, drop: bool) {
        self.drop_headless.store(drop, Ordering::Relaxed);
    }

    /// Replaces the set of sites events are accepted for.
    pub fn set_sites(&self, domains: impl IntoIterator<Item = String>) {
        *self.sites.write() = domains.into_iter().collect();
    }

    pub fn add_site(&self, domain: &str) {
        self.sites.write().insert(domain.to_string());
    }

    pub fn remove_site(&self, domain: &str) {
        self.sites.write().remove(domain);
    }

    /// Remembers idempotency keys already stored (loaded from the store at start).
    pub fn remember_keys(&self, keys: impl IntoIterator<Item = String>) {
        self.idempotency.lock().extend(keys);
    }

    /// Forgets an idempotency key whose event could not be made durable, so its retry counts.
    pub fn forget_key(&self, key: &str) {
        self.idempotency.lock().remove(key);
    }

    /// Restores open sessions from recent stored events.
    pub fn restore_session(&self, site: &str, visitor_id: u64, session_id: u64, last_ms: i64) {
        self.sessions
            .lock()
            .restore(site, visitor_id, session_id, last_ms);
    }

    /// Processes a live request with the salts of its day.
    pub fn process(&self, payload: &Payload, meta: &RequestMeta) -> Result<Outcome, CollectError> {
        let (current, previous) = self.salts.salts_at(meta.timestamp_ms)?;
        Ok(self.process_with_salts(payload, meta, &current, previous.as_ref()))
    }

    /// Rotates salts on a timer, so expired ones go even without traffic.
    pub fn rotate_salts(&self, now_ms: i64) -> Result<(), CollectError> {
        Ok(self.salts.rotate(now_ms)?)
    }

    /// Processes a request with explicit salts (the demo generator's per-day salts).
    pub fn process_with_salts(
        &self,
        payload: &Payload,
        meta: &RequestMeta,
        salt: &Salt,
        previous_salt: Option<&Salt>,
    ) -> Outcome {
        let outcome = self.enrich(payload, meta, salt, previous_salt);
        match &outcome {
            Outcome::Accepted(ev) => {
                self.metrics
                    .accepted
                    .fetch_add(ev.len() as u64, Ordering::Relaxed);
            }
            Outcome::Dropped(r) => self.metrics.count_drop(*r),
        }
        outcome
    }

    fn enrich(
        &self,
        payload: &Payload,
        meta: &RequestMeta,
        salt: &Salt,
        previous_salt: Option<&Salt>,
    ) -> Outcome {
        let ua = self.ua.parse(&meta.user_agent);
        if ua.is_bot || (ua.headless && self.drop_headless.load(Ordering::Relaxed)) {
            return Outcome::Dropped(DropReason::Bot);
        }
        let sites: Vec<String> = {
            let known = self.sites.read();
            payload
                .domains
                .iter()
                .filter(|d| known.contains(d.as_str()))
                .cloned()
                .collect()
        };
        if sites.is_empty() {
            return Outcome::Dropped(DropReason::UnknownSite);
        }
        if let Some(key) = &payload.idempotency_key {
            if !self.idempotency.lock().insert(key.clone()) {
                return Outcome::Dropped(DropReason::Duplicate);
            }
        }
        let hostname = payload
            .url
            .host_str()
            .map(waymark_core::site::normalize_domain)
            .unwrap_or_else(|| "(none)".to_string());
        let referrer = classify_referrer(&payload.referrer, &hostname);
        let utm = utm_from_url(&payload.url);
        let source = source_name(&referrer, &utm);
        let channel = channel(&referrer, &utm).to_string();
        let geo = self
            .geo
            .as_ref()
            .map(|g| g.lookup(meta.ip))
            .unwrap_or_default();
        let pathname = payload.pathname();
        let (revenue_amount, revenue_currency) = match &payload.revenue {
            Some((a, c)) => (Some(*a), c.clone()),
            None => (None, String::new()),
        };

        let mut events = Vec::with_capacity(sites.len());
        let mut sessions = self.sessions.lock();
        for site in sites {
            let visitor_id = salt.visitor_id(&site, meta.ip, &meta.user_agent);
            let previous_id = previous_salt.map(|s| s.visitor_id(&site, meta.ip, &meta.user_agent));
            let session_id =
                sessions.session_for(&site, visitor_id, previous_id, meta.timestamp_ms);
            events.push(Event {
                site_id: site,
                timestamp_ms: meta.timestamp_ms,
                visitor_id,
                session_id,
                name: payload.name.clone(),
                hostname: hostname.clone(),
                pathname: pathname.clone(),
                referrer_domain: referrer.domain.clone(),
                source: source.clone(),
                channel: channel.clone(),
                utm_source: utm.source.clone(),
                utm_medium: utm.medium.clone(),
                utm_campaign: utm.campaign.clone(),
                utm_content: utm.content.clone(),
                utm_term: utm.term.clone(),
                country: geo.country.clone(),
                region: geo.region.clone(),
                city: geo.city.clone(),
                device: ua.device.clone(),
                browser: ua.browser.clone(),
                browser_version: ua.browser_version.clone(),
                os: ua.os.clone(),
                os_version: ua.os_version.clone(),
                props: payload.props.clone(),
                revenue_amount,
                revenue_currency: revenue_currency.clone(),
                engagement_ms: payload.engagement_ms,
                scroll_depth: payload.scroll_depth,
                interactive: payload.interactive,
                idempotency_key: payload.idempotency_key.clone().unwrap_or_default(),
            });
        }
        Outcome::Accepted(events)
    }
}
