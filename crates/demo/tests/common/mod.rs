//! Shared by the demo's tests: generating through a real collector with the demo GeoIP database,
//! and per-session funnel facts computed in plain Rust over the stored events.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;

use waymark_collect::salt::SaltStore;
use waymark_collect::Collector;
use waymark_core::Event;
use waymark_demo::{DemoOptions, DemoSummary, DEMO_SITE};

/// A fixed "now" (2025-11-24 16:00 UTC) so runs are comparable.
pub const END_MS: i64 = 1_764_000_000_000;
pub const DAY_MS: i64 = 86_400_000;

/// A file in the temp dir, removed when dropped.
pub struct TempFile(pub PathBuf);

impl TempFile {
    pub fn new(name: &str) -> TempFile {
        TempFile(
            std::env::temp_dir().join(format!("waymark-demo-test-{}-{name}", std::process::id())),
        )
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A collector like the live one, with the demo GeoIP database.
pub fn collector(tag: &str) -> (Collector, TempFile) {
    let geo = TempFile::new(&format!("{tag}.mmdb"));
    waymark_demo::write_geo_db(&geo.0).expect("geo db written");
    let c = Collector::new(SaltStore::in_memory(), Some(&geo.0)).expect("collector builds");
    c.add_site(DEMO_SITE);
    (c, geo)
}

pub fn options(events: u64, seed: u64) -> DemoOptions {
    DemoOptions {
        site: DEMO_SITE.to_string(),
        days: 90,
        events,
        seed,
        end_ms: END_MS,
    }
}

/// Generates with `opts` and returns every event handed to the sink, and the summary.
pub fn generate(opts: &DemoOptions, tag: &str) -> (Vec<Event>, DemoSummary, usize) {
    let (collector, _geo) = collector(tag);
    let mut events = Vec::new();
    let mut chunks = 0;
    let mut sink = |chunk: Vec<Event>| {
        chunks += 1;
        events.extend(chunk);
        Ok(())
    };
    let summary =
        waymark_demo::generate(opts, &collector, &mut sink, &|_, _| {}).expect("generates");
    (events, summary, chunks)
}

/// What one session did, and where it came from (its first event).
#[derive(Debug, Clone, Default)]
pub struct Session {
    pub first_ms: i64,
    pub channel: String,
    pub device: String,
    pub product_view: bool,
    pub add_to_cart: bool,
    pub begin_checkout: bool,
    pub purchase: bool,
}

pub fn sessions(events: &[Event]) -> Vec<Session> {
    let mut by_id: HashMap<u64, Session> = HashMap::new();
    for e in events {
        let s = by_id.entry(e.session_id).or_insert_with(|| Session {
            first_ms: i64::MAX,
            ..Session::default()
        });
        if e.timestamp_ms < s.first_ms {
            s.first_ms = e.timestamp_ms;
            s.channel = e.channel.clone();
            s.device = e.device.clone();
        }
        match e.name.as_str() {
            "Product View" => s.product_view = true,
            "Add to Cart" => s.add_to_cart = true,
            "Begin Checkout" => s.begin_checkout = true,
            "Purchase" => s.purchase = true,
            _ => {}
        }
    }
    by_id.into_values().collect()
}

/// Step rates in percent: visit → view, view → cart, cart → checkout, checkout → purchase;
/// with the number of sessions at each step.
#[derive(Debug, Clone, Copy)]
pub struct Funnel {
    pub visits: usize,
    pub views: usize,
    pub carts: usize,
    pub checkouts: usize,
    pub purchases: usize,
}

impl Funnel {
    pub fn of<'a>(sessions: impl IntoIterator<Item = &'a Session>) -> Funnel {
        let mut f = Funnel {
            visits: 0,
            views: 0,
            carts: 0,
            checkouts: 0,
            purchases: 0,
        };
        for s in sessions {
            f.visits += 1;
            if s.product_view {
                f.views += 1;
                if s.add_to_cart {
                    f.carts += 1;
                    if s.begin_checkout {
                        f.checkouts += 1;
                        if s.purchase {
                            f.purchases += 1;
                        }
                    }
                }
            }
        }
        f
    }

    fn pct(a: usize, b: usize) -> f64 {
        if b == 0 {
            0.0
        } else {
            100.0 * a as f64 / b as f64
        }
    }

    pub fn view_rate(&self) -> f64 {
        Self::pct(self.views, self.visits)
    }
    pub fn cart_rate(&self) -> f64 {
        Self::pct(self.carts, self.views)
    }
    pub fn checkout_rate(&self) -> f64 {
        Self::pct(self.checkouts, self.carts)
    }
    pub fn purchase_rate(&self) -> f64 {
        Self::pct(self.purchases, self.checkouts)
    }
}

impl std::fmt::Display for Funnel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} visits, view {:.1}% ({}), cart {:.1}% ({}), checkout {:.1}% ({}), purchase {:.1}% ({})",
            self.visits,
            self.view_rate(),
            self.views,
            self.cart_rate(),
            self.carts,
            self.checkout_rate(),
            self.checkouts,
            self.purchase_rate(),
            self.purchases
        )
    }
}
