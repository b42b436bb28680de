//! Idempotency keys of server-side events, remembered for the retry window so that a retried
//! event is stored once, and forgotten after it so that the set stays bounded.
//!
//! The window is measured on the event's own timestamp: a key is remembered until its event is
//! [`RETRY_WINDOW_MS`] old, and the Events API refuses keyed events older than that (HTTP 400),
//! so a keyed event is either recognised as a retry or refused, never stored twice. Measuring
//! on the event's time (not on arrival) is what the store can answer at start-up, so a restart
//! remembers exactly the keys that were remembered before it.
//!
//! Keys are kept as 128-bit keyed fingerprints (16 bytes each whatever the key's length) in one
//! bucket per UTC day of the event; whole buckets are dropped once their day leaves the window.

use std::collections::{BTreeMap, HashSet};
use std::hash::Hasher;

use parking_lot::Mutex;
use rand::RngCore;
use siphasher::sip128::{Hasher128, SipHasher24};

/// How long retries of a keyed event are recognised: until the event is seven days old. Covers
/// webhook providers' retry schedules (typically up to three days) with room for an outage.
pub const RETRY_WINDOW_MS: i64 = 7 * DAY_MS;

const DAY_MS: i64 = 86_400_000;

/// What a key lookup found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// First time: the key is now remembered.
    New,
    /// Already remembered: the event is a retry.
    Duplicate,
}

/// The remembered keys.
pub struct IdempotencyKeys {
    /// Random per process; fingerprints are never stored.
    secret: [u8; 16],
    /// Event day (days since the epoch) → fingerprints of the keys of that day's events.
    days: Mutex<BTreeMap<i64, HashSet<u128>>>,
}

impl Default for IdempotencyKeys {
    fn default() -> Self {
        Self::new()
    }
}

impl IdempotencyKeys {
    pub fn new() -> IdempotencyKeys {
        let mut secret = [0u8; 16];
        rand::rng().fill_bytes(&mut secret);
        IdempotencyKeys {
            secret,
            days: Mutex::new(BTreeMap::new()),
        }
    }

    /// Whether an event with timestamp `event_ms` and this key, arriving at `now_ms`, can still be
    /// recognised as a retry. Older keyed events are refused by the API.
    pub fn in_window(event_ms: i64, now_ms: i64) -> bool {
        event_ms >= now_ms - RETRY_WINDOW_MS
    }

    /// Remembers `key` for an event at `event_ms`, or reports that it is already remembered.
    /// Drops the buckets that left the window as a side effect. An event already outside the
    /// window is not remembered (the API refuses those before they get here).
    pub fn insert(&self, key: &str, event_ms: i64, now_ms: i64) -> Seen {
        let fp = self.fingerprint(key);
        let mut days = self.days.lock();
        prune(&mut days, now_ms);
        if days.values().any(|set| set.contains(&fp)) {
            return Seen::Duplicate;
        }
        if Self::in_window(event_ms, now_ms) {
            days.entry(event_ms.div_euclid(DAY_MS))
                .or_default()
                .insert(fp);
        }
        Seen::New
    }

    /// Forgets a key whose event could not be made durable, so that its retry is stored.
    pub fn remove(&self, key: &str, event_ms: i64) {
        let fp = self.fingerprint(key);
        if let Some(set) = self.days.lock().get_mut(&event_ms.div_euclid(DAY_MS)) {
            set.remove(&fp);
        }
    }

    /// Remembers keys already stored (from the store at start-up). Their events' timestamps are
    /// not known here, only that they lie in the window, so they are kept as if from `now_ms`:
    /// never forgotten too early, at most one window too late.
    pub fn restore(&self, keys: impl IntoIterator<Item = String>, now_ms: i64) {
        let fps: Vec<u128> = keys.into_iter().map(|k| self.fingerprint(&k)).collect();
        self.days
            .lock()
            .entry(now_ms.div_euclid(DAY_MS))
            .or_default()
            .extend(fps);
    }

    /// How many keys are remembered.
    pub fn len(&self) -> usize {
        self.days.lock().values().map(HashSet::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn fingerprint(&self, key: &str) -> u128 {
        let mut h = SipHasher24::new_with_key(&self.secret);
        h.write(key.as_bytes());
        h.finish128().as_u128()
    }
}

/// Drops every day whose events are all older than the window.
fn prune(days: &mut BTreeMap<i64, HashSet<u128>>, now_ms: i64) {
    // Day d holds events in [d*DAY, (d+1)*DAY): all outside once (d+1)*DAY <= now - window.
    let first_kept = (now_ms - RETRY_WINDOW_MS).div_euclid(DAY_MS);
    while let Some(entry) = days.first_entry() {
        if *entry.key() >= first_kept {
            break;
        }
        entry.remove();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 20_000 * DAY_MS;

    #[test]
    fn a_retry_inside_the_window_is_a_duplicate() {
        let keys = IdempotencyKeys::new();
        // A backfilled event from six days ago, retried over the next hours.
        let event = T0 - 6 * DAY_MS;
        assert_eq!(keys.insert("order-1", event, T0), Seen::New);
        for h in 1..=20 {
            assert_eq!(
                keys.insert("order-1", event, T0 + h * 3_600_000),
                Seen::Duplicate,
                "retry after {h} h"
            );
        }
        // A retry with another timestamp still carries the same key.
        assert_eq!(keys.insert("order-1", T0, T0 + 1), Seen::Duplicate);
        assert_eq!(keys.len(), 1);
        // Forgotten after a failed write: the retry counts.
        keys.remove("order-1", event);
        assert_eq!(keys.insert("order-1", event, T0 + 2), Seen::New);
    }

    #[test]
    fn the_set_stops_growing() {
        let keys = IdempotencyKeys::new();
        let per_day = 500;
        let mut sizes = Vec::new();
        for day in 0..30 {
            for i in 0..per_day {
                let now = T0 + day * DAY_MS + i * (DAY_MS / per_day);
                assert_eq!(keys.insert(&format!("k-{day}-{i}"), now, now), Seen::New);
            }
            sizes.push(keys.len());
        }
        // Growth stops once the window is full: at most the window's days plus today's.
        let cap = (RETRY_WINDOW_MS / DAY_MS + 1) as usize * per_day as usize;
        assert!(sizes.iter().all(|&s| s <= cap), "{sizes:?}");
        assert_eq!(sizes[29], sizes[15], "{sizes:?}");
        // Keys whose events left the window are gone; those inside are still there.
        let now = T0 + 29 * DAY_MS + DAY_MS - 1;
        assert_eq!(keys.insert("k-25-3", now, now), Seen::Duplicate);
        assert_eq!(keys.insert("k-20-3", now, now), Seen::New);
    }

    #[test]
    fn restored_keys_are_remembered_for_the_window() {
        let keys = IdempotencyKeys::new();
        keys.restore(["inv-1".to_string(), "inv-2".to_string()], T0);
        assert_eq!(keys.insert("inv-2", T0 - DAY_MS, T0 + 1), Seen::Duplicate);
        assert_eq!(keys.insert("inv-3", T0 - DAY_MS, T0 + 1), Seen::New);
        assert_eq!(
            keys.insert("inv-1", T0, T0 + RETRY_WINDOW_MS),
            Seen::Duplicate
        );
        // An event already outside the window is not remembered.
        assert_eq!(keys.insert("old", T0, T0 + 2 * RETRY_WINDOW_MS), Seen::New);
        assert_eq!(keys.insert("old", T0, T0 + 2 * RETRY_WINDOW_MS), Seen::New);
        assert!(!IdempotencyKeys::in_window(T0, T0 + 2 * RETRY_WINDOW_MS));
    }
}
