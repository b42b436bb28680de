//! The ingest pipeline from a validated payload to stored-shape events: bot filter, site check,
//! enrichment (source, channel, UTM, device, geo), visitor id and session. The demo generator
//! runs the very same code with generated timestamps and per-day salts.
//!
//! Concurrency: requests run this on every worker thread at once, so nothing here is behind one
//! lock: the site list and the salts are lock-free snapshots, sessions are sharded, and only
//! keyed (server-side) events touch the idempotency set.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use arc_swap::ArcSwap;
use parking_lot::Mutex;
use waymark_core::Event;
use waymark_enrich::{
    channel::channel, geo::GeoDb, referrer::classify_referrer, source::source_name,
    useragent::UaParser, utm::utm_from_url,
};

use crate::idempotency::{IdempotencyKeys, Seen};
use crate::payload::Payload;
use crate::salt::{DayKeys, Salt, SaltError, SaltStore};
use crate::session::{site_key, Sessionizer};

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
    sessions: Sessionizer,
    /// Known sites and their session-table keys; replaced whole when a site is added or removed.
    sites: ArcSwap<HashMap<String, u64>>,
    /// Serialises site-list updates (reads never wait for it).
    sites_update: Mutex<()>,
    idempotency: IdempotencyKeys,
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
            sessions: Sessionizer::new(),
            sites: ArcSwap::from_pointee(HashMap::new()),
            sites_update: Mutex::new(()),
            idempotency: IdempotencyKeys::new(),
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
        let _guard = self.sites_update.lock();
        let sites = domains
            .into_iter()
            .map(|d| {
                let k = site_key(&d);
                (d, k)
            })
            .collect();
        self.sites.store(Arc::new(sites));
    }

    pub fn add_site(&self, domain: &str) {
        let _guard = self.sites_update.lock();
        let mut sites = HashMap::clone(&self.sites.load());
        sites.insert(domain.to_string(), site_key(domain));
        self.sites.store(Arc::new(sites));
    }

    pub fn remove_site(&self, domain: &str) {
        let _guard = self.sites_update.lock();
        let mut sites = HashMap::clone(&self.sites.load());
        sites.remove(domain);
        self.sites.store(Arc::new(sites));
    }

    /// Remembers idempotency keys already stored: the store's keys of events inside the retry
    /// window (see [`crate::idempotency`]), loaded at start.
    pub fn remember_keys(&self, keys: impl IntoIterator<Item = String>, now_ms: i64) {
        self.idempotency.restore(keys, now_ms);
    }

    /// Forgets an idempotency key whose event could not be made durable, so its retry counts.
    pub fn forget_key(&self, key: &str, event_ms: i64) {
        self.idempotency.remove(key, event_ms);
    }

    /// How many idempotency keys are remembered (bounded by the retry window).
    pub fn remembered_keys(&self) -> usize {
        self.idempotency.len()
    }

    /// Restores open sessions from recent stored events.
    pub fn restore_session(&self, site: &str, visitor_id: u64, session_id: u64, last_ms: i64) {
        self.sessions.restore(site, visitor_id, session_id, last_ms);
    }

    /// Processes a live request received now.
    pub fn process(&self, payload: &Payload, meta: &RequestMeta) -> Result<Outcome, CollectError> {
        self.process_at(payload, meta, chrono::Utc::now().timestamp_millis())
    }

    /// Processes a live request received at server time `now_ms`. The event's own time
    /// (`meta.timestamp_ms`, earlier for a backfill) chooses the key that hashes it, but only
    /// `now_ms` rotates salts (see [`crate::salt`]).
    pub fn process_at(
        &self,
        payload: &Payload,
        meta: &RequestMeta,
        now_ms: i64,
    ) -> Result<Outcome, CollectError> {
        let keys = self.salts.keys_for(meta.timestamp_ms, now_ms)?;
        Ok(self.count(self.enrich(payload, meta, keys, now_ms)))
    }

    /// Rotates salts on a timer, so expired ones go even without traffic.
    pub fn rotate_salts(&self, now_ms: i64) -> Result<(), CollectError> {
        Ok(self.salts.rotate(now_ms)?)
    }

    /// Processes a request with explicit salts (the demo generator's per-day salts); its
    /// timestamp stands for the server clock.
    pub fn process_with_salts(
        &self,
        payload: &Payload,
        meta: &RequestMeta,
        salt: &Salt,
        previous_salt: Option<&Salt>,
    ) -> Outcome {
        let keys = DayKeys {
            salt: *salt,
            previous: previous_salt.copied(),
        };
        self.count(self.enrich(payload, meta, keys, meta.timestamp_ms))
    }

    fn count(&self, outcome: Outcome) -> Outcome {
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

    fn enrich(&self, payload: &Payload, meta: &RequestMeta, keys: DayKeys, now_ms: i64) -> Outcome {
        let ua = self.ua.parse(&meta.user_agent);
        if ua.is_bot || (ua.headless && self.drop_headless.load(Ordering::Relaxed)) {
            return Outcome::Dropped(DropReason::Bot);
        }
        let sites: Vec<(&str, u64)> = {
            let known = self.sites.load();
            payload
                .domains
                .iter()
                .filter_map(|d| known.get(d.as_str()).map(|k| (d.as_str(), *k)))
                .collect()
        };
        if sites.is_empty() {
            return Outcome::Dropped(DropReason::UnknownSite);
        }
        if let Some(key) = &payload.idempotency_key {
            if self.idempotency.insert(key, meta.timestamp_ms, now_ms) == Seen::Duplicate {
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
        let (revenue_amount, revenue_currency) = match &payload.revenue {
            Some((a, c)) => (Some(*a), c.clone()),
            None => (None, String::new()),
        };
        // Built once, moving every value in; only the extra sites of a roll-up get a copy.
        let mut event = Event {
            site_id: String::new(),
            timestamp_ms: meta.timestamp_ms,
            visitor_id: 0,
            session_id: 0,
            name: payload.name.clone(),
            hostname,
            pathname: payload.pathname(),
            referrer_domain: referrer.domain,
            source,
            channel,
            utm_source: utm.source,
            utm_medium: utm.medium,
            utm_campaign: utm.campaign,
            utm_content: utm.content,
            utm_term: utm.term,
            country: geo.country,
            region: geo.region,
            city: geo.city,
            device: ua.device.clone(),
            browser: ua.browser.clone(),
            browser_version: ua.browser_version.clone(),
            os: ua.os.clone(),
            os_version: ua.os_version.clone(),
            props: payload.props.clone(),
            revenue_amount,
            revenue_currency,
            engagement_ms: payload.engagement_ms,
            scroll_depth: payload.scroll_depth,
            interactive: payload.interactive,
            idempotency_key: payload.idempotency_key.clone().unwrap_or_default(),
        };

        let mut events = Vec::with_capacity(sites.len());
        let last = sites.len() - 1;
        for (i, (site, sk)) in sites.into_iter().enumerate() {
            let visitor_id = keys.salt.visitor_id(site, meta.ip, &meta.user_agent);
            let previous_id = keys
                .previous
                .map(|s| s.visitor_id(site, meta.ip, &meta.user_agent));
            let session_id =
                self.sessions
                    .session_for(sk, visitor_id, previous_id, meta.timestamp_ms, now_ms);
            let mut e = if i == last {
                std::mem::take(&mut event)
            } else {
                event.clone()
            };
            e.site_id = site.to_string();
            e.visitor_id = visitor_id;
            e.session_id = session_id;
            events.push(e);
        }
        Outcome::Accepted(events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UA: &str =
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";
    const DAY: i64 = 86_400_000;

    fn meta(ip: &str, ts: i64) -> RequestMeta {
        RequestMeta {
            ip: ip.parse().unwrap(),
            user_agent: UA.into(),
            timestamp_ms: ts,
        }
    }

    fn one(outcome: Outcome) -> Event {
        match outcome {
            Outcome::Accepted(mut ev) if ev.len() == 1 => ev.remove(0),
            other => panic!("expected one event, got {other:?}"),
        }
    }

    fn page(path: &str) -> Payload {
        Payload::parse(
            format!(r#"{{"n":"pageview","u":"https://shop.example{path}","d":"shop.example"}}"#)
                .as_bytes(),
        )
        .unwrap()
    }

    #[test]
    fn a_backfilled_event_leaves_todays_visitor_whole() {
        let dir = tempfile::tempdir().unwrap();
        let c = Collector::new(SaltStore::open(dir.path()).unwrap(), None).unwrap();
        c.set_sites(["shop.example".to_string()]);
        let now = 20_000 * DAY + 14 * 3_600_000;
        let a = one(c
            .process_at(&page("/c"), &meta("198.51.100.9", now), now)
            .unwrap());
        let salts_before = std::fs::read(dir.path().join("salts.json")).unwrap();

        let signup =
            Payload::parse(br#"{"n":"Signup","u":"https://shop.example/s","d":"shop.example"}"#)
                .unwrap();
        let y = one(c
            .process_at(&signup, &meta("198.51.100.8", now + 5 - DAY), now + 5)
            .unwrap());
        // The same person yesterday, sent now: a visitor of yesterday, not of today.
        let y9 = one(c
            .process_at(&signup, &meta("198.51.100.9", now + 6 - DAY), now + 6)
            .unwrap());
        let b = one(c
            .process_at(&page("/d"), &meta("198.51.100.9", now + 10), now + 10)
            .unwrap());

        assert_eq!((a.visitor_id, a.session_id), (b.visitor_id, b.session_id));
        assert_ne!(y.visitor_id, a.visitor_id);
        assert_ne!(y9.visitor_id, a.visitor_id);
        assert_ne!(y9.session_id, a.session_id);
        assert_eq!(y.timestamp_ms, now + 5 - DAY);
        // salts.json was not rewritten: no salt for yesterday, today's unchanged.
        assert_eq!(
            std::fs::read(dir.path().join("salts.json")).unwrap(),
            salts_before
        );
    }

    #[test]
    fn a_rollup_gets_one_event_per_known_site() {
        let c = Collector::new(SaltStore::in_memory(), None).unwrap();
        c.set_sites(["a.example".to_string(), "b.example".to_string()]);
        c.add_site("c.example");
        c.remove_site("b.example");
        let p = Payload::parse(
            br#"{"n":"pageview","u":"https://a.example/x?utm_source=nl","d":"a.example,b.example,c.example","p":{"k":"v"}}"#,
        )
        .unwrap();
        let Outcome::Accepted(ev) = c.process_at(&p, &meta("192.0.2.1", 1_000), 1_000).unwrap()
        else {
            panic!("accepted");
        };
        let sites: Vec<_> = ev.iter().map(|e| e.site_id.as_str()).collect();
        assert_eq!(sites, ["a.example", "c.example"]);
        assert_ne!(
            ev[0].visitor_id, ev[1].visitor_id,
            "unlinkable across sites"
        );
        for e in &ev {
            assert_eq!(
                (e.pathname.as_str(), e.utm_source.as_str(), e.prop("k")),
                ("/x", "nl", Some("v"))
            );
        }
    }

    #[test]
    fn a_retried_key_is_stored_once() {
        let c = Collector::new(SaltStore::in_memory(), None).unwrap();
        c.set_sites(["shop.example".to_string()]);
        let now = 20_000 * DAY;
        let p = Payload::parse(
            br#"{"n":"Purchase","u":"https://shop.example/","d":"shop.example","idempotency_key":"o-1"}"#,
        )
        .unwrap();
        let first = c
            .process_at(&p, &meta("192.0.2.1", now - 3 * DAY), now)
            .unwrap();
        assert!(matches!(first, Outcome::Accepted(_)));
        let again = c
            .process_at(&p, &meta("192.0.2.1", now - 3 * DAY), now + 3_600_000)
            .unwrap();
        assert!(matches!(again, Outcome::Dropped(DropReason::Duplicate)));
        assert_eq!(c.remembered_keys(), 1);
        assert_eq!(c.metrics.dropped_duplicate.load(Ordering::Relaxed), 1);
    }
}
