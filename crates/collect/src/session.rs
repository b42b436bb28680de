//! Sessions: the same visitor on the same site with gaps under 30 minutes. Kept in memory,
//! bounded by pruning visitors idle for 30 minutes; restored from the store's last half hour at
//! start.
//!
//! The open sessions are split over [`SHARDS`] independently locked maps chosen by (site,
//! visitor), so concurrent requests rarely wait for each other and pruning one shard stalls
//! only the few requests that land on it.

use std::collections::HashMap;
use std::hash::Hasher;

use parking_lot::{Mutex, MutexGuard};
use siphasher::sip::SipHasher13;

/// Inactivity that ends a session.
pub const SESSION_TIMEOUT_MS: i64 = 30 * 60 * 1000;

/// Independently locked parts of the session table (a power of two).
pub const SHARDS: usize = 64;

#[derive(Debug, Clone, Copy)]
struct Open {
    session_id: u64,
    /// Time of the session's latest event.
    last_ms: i64,
    /// Server time it was last touched: pruning goes by this, so a backfill's old timestamps
    /// are not pruned while its sender is still sending.
    seen_ms: i64,
}

#[derive(Default)]
struct Shard {
    open: HashMap<(u64, u64), Open>,
    last_prune_ms: i64,
}

impl Shard {
    fn prune_if_due(&mut self, now_ms: i64) {
        if now_ms - self.last_prune_ms > SESSION_TIMEOUT_MS {
            self.open
                .retain(|_, o| now_ms - o.seen_ms < SESSION_TIMEOUT_MS);
            self.last_prune_ms = now_ms;
        }
    }
}

/// Identifies a site in the session table without keeping its name.
pub fn site_key(site: &str) -> u64 {
    let mut h = SipHasher13::new();
    h.write(site.as_bytes());
    h.finish()
}

/// Assigns session ids to (site, visitor) activity. `Sync`: share one behind the collector.
pub struct Sessionizer {
    shards: Box<[Mutex<Shard>]>,
}

impl Default for Sessionizer {
    fn default() -> Self {
        Self::new()
    }
}

fn shard_of(site: u64, visitor: u64) -> usize {
    // Visitor ids are keyed hashes, so their bits are already uniform; the site is mixed in
    // for roll-ups (one visitor id per site).
    ((visitor ^ site.rotate_left(29)) >> 58) as usize & (SHARDS - 1)
}

impl Sessionizer {
    pub fn new() -> Sessionizer {
        Sessionizer {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
        }
    }

    /// Restores an open session (from stored events) so a restart does not split visits.
    pub fn restore(&self, site: &str, visitor_id: u64, session_id: u64, last_ms: i64) {
        let sk = site_key(site);
        let mut shard = self.shards[shard_of(sk, visitor_id)].lock();
        let restored = Open {
            session_id,
            last_ms,
            seen_ms: last_ms,
        };
        let e = shard.open.entry((sk, visitor_id)).or_insert(restored);
        if last_ms >= e.last_ms {
            *e = restored;
        }
    }

    /// The session id for an event at `ts_ms`, received at server time `now_ms`.
    /// `previous_visitor` is the id under yesterday's salt (during the overlap after midnight)
    /// so a session crossing midnight continues; the session is then carried over to the new
    /// visitor id.
    pub fn session_for(
        &self,
        site: u64,
        visitor_id: u64,
        previous_visitor: Option<u64>,
        ts_ms: i64,
        now_ms: i64,
    ) -> u64 {
        let here = shard_of(site, visitor_id);
        let there = previous_visitor.map(|p| shard_of(site, p));
        // Two shards are locked in index order, so two carries never deadlock.
        let (mut shard, mut other): (MutexGuard<'_, Shard>, Option<MutexGuard<'_, Shard>>) =
            match there {
                Some(t) if t < here => {
                    let o = self.shards[t].lock();
                    (self.shards[here].lock(), Some(o))
                }
                Some(t) if t > here => {
                    let s = self.shards[here].lock();
                    (s, Some(self.shards[t].lock()))
                }
                _ => (self.shards[here].lock(), None),
            };
        shard.prune_if_due(now_ms);
        if let Some(p) = previous_visitor {
            if !shard.open.contains_key(&(site, visitor_id)) {
                let from = other.as_deref_mut().unwrap_or(&mut *shard);
                if let Some(open) = from.open.remove(&(site, p)) {
                    shard.open.insert((site, visitor_id), open);
                }
            }
        }
        drop(other);
        let open = shard.open.entry((site, visitor_id)).or_insert(Open {
            session_id: new_session_id(site, visitor_id, ts_ms),
            last_ms: ts_ms,
            seen_ms: now_ms,
        });
        if ts_ms - open.last_ms >= SESSION_TIMEOUT_MS {
            *open = Open {
                session_id: new_session_id(site, visitor_id, ts_ms),
                last_ms: ts_ms,
                seen_ms: now_ms,
            };
        }
        open.last_ms = open.last_ms.max(ts_ms);
        open.seen_ms = open.seen_ms.max(now_ms);
        open.session_id
    }

    /// Open sessions (for tests and metrics).
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().open.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Deterministic for a visitor's first event, so replays and generated data are reproducible.
fn new_session_id(site: u64, visitor: u64, ts_ms: i64) -> u64 {
    let mut h = SipHasher13::new_with_keys(site, visitor);
    h.write_i64(ts_ms);
    h.finish() >> 1
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn at(s: &Sessionizer, site: &str, visitor: u64, prev: Option<u64>, ts: i64) -> u64 {
        s.session_for(site_key(site), visitor, prev, ts, ts)
    }

    #[test]
    fn gaps_under_thirty_minutes_stay_in_one_session() {
        let s = Sessionizer::new();
        let a = at(&s, "x", 1, None, 0);
        assert_eq!(a, at(&s, "x", 1, None, 29 * MIN));
        assert_eq!(a, at(&s, "x", 1, None, 58 * MIN));
        let b = at(&s, "x", 1, None, 88 * MIN);
        assert_ne!(a, b, "a 30 minute gap starts a new session");
        assert_ne!(at(&s, "y", 1, None, 88 * MIN), b, "sites are separate");
        assert_ne!(at(&s, "x", 2, None, 88 * MIN), b, "visitors are separate");
    }

    #[test]
    fn midnight_carries_the_session_to_the_new_visitor_id() {
        let s = Sessionizer::new();
        // Visitor ids in different shards and in the same one.
        for (old, new) in [(1u64, 99u64 << 58), (5, 6)] {
            let a = at(&s, "x", old, None, 0);
            assert_eq!(a, at(&s, "x", new, Some(old), 10 * MIN));
            assert_eq!(a, at(&s, "x", new, None, 20 * MIN));
        }
    }

    #[test]
    fn idle_sessions_are_pruned_by_server_time() {
        let s = Sessionizer::new();
        let now = 1_000 * SESSION_TIMEOUT_MS;
        // A backfill sending last week's events keeps its sessions while it sends, though
        // their timestamps are far older than the timeout.
        let week_ago = now - 7 * 24 * 60 * MIN;
        let sk = site_key("x");
        let a = s.session_for(sk, 7, None, week_ago, now);
        assert_eq!(
            a,
            s.session_for(sk, 7, None, week_ago + 10 * MIN, now + 20 * MIN)
        );
        // Visitor 8 shares visitor 7's shard; its event makes that shard prune.
        s.session_for(sk, 8, None, now + 31 * MIN, now + 31 * MIN);
        assert_eq!(s.len(), 2);
        assert_eq!(
            a,
            s.session_for(sk, 7, None, week_ago + 25 * MIN, now + 40 * MIN)
        );
        // Once nobody touched them for 30 minutes, they go.
        s.session_for(sk, 8, None, now + 75 * MIN, now + 75 * MIN);
        assert_eq!(s.len(), 1);
    }
}
