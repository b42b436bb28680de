//! Daily secret salts for visitor ids. A salt lives for its UTC day plus a short overlap (so a
//! session crossing midnight continues); expired salts are deleted from disk and memory.
//!
//! Only the server clock rotates salts. An event's own timestamp (an authenticated backfill)
//! picks which key hashes it but never creates, replaces or deletes a salt: a past day whose
//! salt is gone is hashed with a key derived from the current salt and that day (see
//! [`DayKeys`]), which is never written anywhere and dies with the current salt.
//!
//! The request path reads the current salts from an [`ArcSwap`] snapshot without a lock; the
//! snapshot knows until when it is valid, and only the first request after that (or the upkeep
//! timer) takes the rotation lock, rewrites `salts.json` and publishes a new snapshot.

use std::hash::Hasher;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;
use chrono::{Datelike, NaiveDate};
use parking_lot::Mutex;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use siphasher::sip::SipHasher24;
use siphasher::sip128::{Hasher128, SipHasher24 as SipHasher128};

/// How long after its day ends a salt is still used to continue sessions.
pub const SALT_OVERLAP_MS: i64 = 3600 * 1000;

const DAY_MS: i64 = 86_400_000;

/// A 16-byte random key for one UTC day.
#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Salt {
    pub day: NaiveDate,
    key: [u8; 16],
}

impl std::fmt::Debug for Salt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key itself is a secret and never printed.
        write!(f, "Salt({})", self.day)
    }
}

impl Salt {
    /// A fresh random salt for `day`.
    pub fn random(day: NaiveDate) -> Salt {
        let mut key = [0u8; 16];
        rand::rng().fill_bytes(&mut key);
        Salt { day, key }
    }

    /// A salt with a given key (the demo generator derives them from its seed).
    pub fn from_key(day: NaiveDate, key: [u8; 16]) -> Salt {
        Salt { day, key }
    }

    /// The visitor id: SipHash-2-4 keyed with the salt over site, IP and user agent.
    /// Only this 64-bit hash leaves memory; the IP is dropped by the caller.
    pub fn visitor_id(&self, site: &str, ip: IpAddr, user_agent: &str) -> u64 {
        let mut h = SipHasher24::new_with_key(&self.key);
        h.write(site.as_bytes());
        h.write_u8(0);
        match ip {
            IpAddr::V4(v4) => h.write(&v4.octets()),
            IpAddr::V6(v6) => h.write(&v6.octets()),
        }
        h.write_u8(0);
        h.write(user_agent.as_bytes());
        h.finish()
    }

    /// The key for a past `day` whose own salt is gone: SipHash-128 keyed with this (current)
    /// salt over the day. Deterministic while this salt lives, so one day's backfilled events
    /// from the same visitor stay one visitor; unrecoverable once this salt is deleted. It is
    /// never stored, and it cannot be linked to the day's real salt or to today's ids.
    fn derive_for(&self, day: NaiveDate) -> Salt {
        let mut h = SipHasher128::new_with_key(&self.key);
        h.write(b"waymark past day\0");
        h.write_i32(day.num_days_from_ce());
        Salt {
            day,
            key: h.finish128().as_bytes(),
        }
    }
}

/// The keys that hash one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayKeys {
    /// Hashes the event: today's salt for events of today (and the few minutes of tomorrow the
    /// clock-skew allowance admits), yesterday's while it is still kept, else a derived key.
    pub salt: Salt,
    /// Yesterday's salt, for an event of today within the overlap after midnight, so that its
    /// visitor's session started before midnight continues.
    pub previous: Option<Salt>,
}

/// Why the salt file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SaltError {
    #[error("salt file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("salt file {path} is corrupt: {message}")]
    Corrupt { path: PathBuf, message: String },
}

impl waymark_core::HasKind for SaltError {
    fn kind(&self) -> waymark_core::ErrorKind {
        waymark_core::ErrorKind::Unavailable
    }
}

/// The salts kept at one moment, and until when that stays true.
#[derive(Debug)]
struct Snapshot {
    /// The salt of the server clock's current day.
    today: Salt,
    /// Yesterday's salt, only during the overlap after midnight.
    previous: Option<Salt>,
    /// The snapshot is stale from this instant on: the next midnight, or the overlap's end
    /// while `previous` is kept. `i64::MIN` before the first rotation.
    valid_until_ms: i64,
}

/// Salts persisted in `<data-dir>/salts.json` (written atomically), so visitor ids stay stable
/// across a restart within a day.
pub struct SaltStore {
    path: Option<PathBuf>,
    /// What the request path reads, lock-free.
    snapshot: ArcSwap<Snapshot>,
    /// The salts as on disk; held while rotating, so one thread rotates at a time.
    kept: Mutex<Vec<Salt>>,
}

impl SaltStore {
    /// Opens (or creates) the salt file in `dir`. Nothing is rotated until the first lookup.
    pub fn open(dir: &Path) -> Result<SaltStore, SaltError> {
        let path = dir.join("salts.json");
        let salts = match std::fs::read(&path) {
            Ok(bytes) => {
                serde_json::from_slice::<Vec<Salt>>(&bytes).map_err(|e| SaltError::Corrupt {
                    path: path.clone(),
                    message: e.to_string(),
                })?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(source) => return Err(SaltError::Io { path, source }),
        };
        Ok(SaltStore::with(Some(path), salts))
    }

    /// A store that keeps salts in memory only (tests, benchmarks).
    pub fn in_memory() -> SaltStore {
        SaltStore::with(None, Vec::new())
    }

    fn with(path: Option<PathBuf>, salts: Vec<Salt>) -> SaltStore {
        let stale = Snapshot {
            today: Salt::from_key(NaiveDate::MIN, [0; 16]),
            previous: None,
            valid_until_ms: i64::MIN,
        };
        SaltStore {
            path,
            snapshot: ArcSwap::from_pointee(stale),
            kept: Mutex::new(salts),
        }
    }

    /// The keys for an event at `event_ms` received at server time `now_ms`. Rotates first if
    /// the server clock has passed midnight or the overlap's end; the event's time never does.
    pub fn keys_for(&self, event_ms: i64, now_ms: i64) -> Result<DayKeys, SaltError> {
        let snap = self.current(now_ms)?;
        let day = day_of(event_ms);
        if day >= snap.today.day {
            // Today, or a few minutes past midnight by a sender's clock running ahead.
            let previous = snap
                .previous
                .filter(|_| day == snap.today.day && within_overlap(event_ms));
            return Ok(DayKeys {
                salt: snap.today,
                previous,
            });
        }
        let salt = match snap.previous {
            Some(p) if p.day == day => p,
            _ => snap.today.derive_for(day),
        };
        Ok(DayKeys {
            salt,
            previous: None,
        })
    }

    /// The current salt and, within the overlap after midnight, the previous day's, for server
    /// time `now_ms`.
    pub fn salts_at(&self, now_ms: i64) -> Result<(Salt, Option<Salt>), SaltError> {
        let snap = self.current(now_ms)?;
        Ok((snap.today, snap.previous))
    }

    /// Rotates now if due (called by a timer so expired salts go even when no events arrive).
    pub fn rotate(&self, now_ms: i64) -> Result<(), SaltError> {
        self.current(now_ms).map(|_| ())
    }

    /// The days for which a salt is currently kept (in memory and on disk).
    pub fn days(&self) -> Vec<NaiveDate> {
        self.kept.lock().iter().map(|s| s.day).collect()
    }

    /// The valid snapshot for `now_ms`: a lock-free load unless it went stale. A clock that
    /// steps back keeps the salts it has rather than re-creating an earlier day's.
    fn current(&self, now_ms: i64) -> Result<Arc<Snapshot>, SaltError> {
        let snap = self.snapshot.load_full();
        if now_ms < snap.valid_until_ms {
            return Ok(snap);
        }
        let mut kept = self.kept.lock();
        // Another thread may have rotated while this one waited for the lock.
        let snap = self.snapshot.load_full();
        if now_ms < snap.valid_until_ms {
            return Ok(snap);
        }
        let today = day_of(now_ms);
        let overlap = within_overlap(now_ms);
        let mut next = kept.clone();
        next.retain(|s| s.day == today || (overlap && s.day.succ_opt() == Some(today)));
        if !next.iter().any(|s| s.day == today) {
            next.push(Salt::random(today));
        }
        if next != *kept {
            self.persist(&next)?;
            *kept = next;
        }
        let midnight = (now_ms.div_euclid(DAY_MS) + 1) * DAY_MS;
        let previous = kept.iter().find(|s| s.day != today).copied();
        let valid_until_ms = if previous.is_some() {
            now_ms.div_euclid(DAY_MS) * DAY_MS + SALT_OVERLAP_MS
        } else {
            midnight
        };
        let fresh = Arc::new(Snapshot {
            today: kept
                .iter()
                .find(|s| s.day == today)
                .copied()
                .unwrap_or_else(|| Salt::random(today)),
            previous,
            valid_until_ms,
        });
        self.snapshot.store(fresh.clone());
        Ok(fresh)
    }

    fn persist(&self, salts: &[Salt]) -> Result<(), SaltError> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let io = |source| SaltError::Io {
            path: path.clone(),
            source,
        };
        let tmp = path.with_extension("json.tmp");
        let bytes = serde_json::to_vec(salts).map_err(|e| SaltError::Corrupt {
            path: path.clone(),
            message: e.to_string(),
        })?;
        {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp).map_err(io)?;
            f.write_all(&bytes).map_err(io)?;
            f.sync_all().map_err(io)?;
        }
        std::fs::rename(&tmp, path).map_err(io)?;
        if let Some(dir) = path.parent() {
            // The rename is durable only once the directory is.
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(io)?;
        }
        Ok(())
    }
}

fn day_of(ms: i64) -> NaiveDate {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .date_naive()
}

fn within_overlap(ms: i64) -> bool {
    ms.rem_euclid(DAY_MS) < SALT_OVERLAP_MS
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3600 * 1000;

    fn on_disk(dir: &Path) -> Vec<NaiveDate> {
        let bytes = std::fs::read(dir.join("salts.json")).unwrap();
        serde_json::from_slice::<Vec<Salt>>(&bytes)
            .unwrap()
            .iter()
            .map(|s| s.day)
            .collect()
    }

    #[test]
    fn rotates_at_midnight_and_deletes_expired() {
        let dir = tempfile::tempdir().unwrap();
        let store = SaltStore::open(dir.path()).unwrap();
        let t0 = 20_000 * DAY_MS + 12 * HOUR; // noon
        let (a, prev) = store.salts_at(t0).unwrap();
        assert!(prev.is_none());
        let ip: IpAddr = "203.0.113.9".parse().unwrap();
        // Stable within the day and across a reopen.
        let reopened = SaltStore::open(dir.path()).unwrap();
        let (a2, _) = reopened.salts_at(t0 + HOUR).unwrap();
        assert_eq!(a.visitor_id("s", ip, "ua"), a2.visitor_id("s", ip, "ua"));
        // Just after midnight: a new salt, yesterday's kept for the overlap.
        let (b, prev) = reopened.salts_at(t0 + 12 * HOUR + 60_000).unwrap();
        assert_ne!(a.visitor_id("s", ip, "ua"), b.visitor_id("s", ip, "ua"));
        assert_eq!(prev.map(|p| p.day), Some(a.day));
        assert_eq!(on_disk(dir.path()), vec![a.day, b.day]);
        // After the overlap yesterday's salt is gone, from memory and from disk.
        reopened.rotate(t0 + 12 * HOUR + 2 * HOUR).unwrap();
        assert_eq!(reopened.days(), vec![b.day]);
        assert_eq!(on_disk(dir.path()), vec![b.day]);
        let again = SaltStore::open(dir.path()).unwrap();
        assert_eq!(again.days(), vec![b.day]);
    }

    #[test]
    fn a_past_days_event_leaves_the_salts_alone() {
        let dir = tempfile::tempdir().unwrap();
        let store = SaltStore::open(dir.path()).unwrap();
        let now = 20_000 * DAY_MS + 15 * HOUR;
        let ip: IpAddr = "203.0.113.9".parse().unwrap();
        let live = store.keys_for(now, now).unwrap();
        let today = live.salt.day;
        assert_eq!(live.previous, None);
        let before = std::fs::read(dir.path().join("salts.json")).unwrap();

        // Events from 1, 3 and 40 days ago, sent now.
        let past: Vec<DayKeys> = [1, 3, 40]
            .iter()
            .map(|d| store.keys_for(now - d * DAY_MS, now + 1).unwrap())
            .collect();
        for (k, d) in past.iter().zip([1, 3, 40]) {
            assert_eq!(
                k.salt.day,
                day_of(now - d * DAY_MS),
                "keyed for its own day"
            );
            assert_eq!(k.previous, None);
            assert_ne!(k.salt, live.salt);
        }
        // Today's salt is untouched: same ids, same file, no salt for any past day.
        let after = store.keys_for(now + 2, now + 2).unwrap();
        assert_eq!(after.salt, live.salt);
        assert_eq!(store.days(), vec![today]);
        assert_eq!(
            std::fs::read(dir.path().join("salts.json")).unwrap(),
            before
        );
        assert!(!dir.path().join("salts.json.tmp").exists());

        // One past day's events from one visitor are one visitor, different from today's...
        let again = store.keys_for(now - DAY_MS + 60_000, now + 3).unwrap();
        assert_eq!(again.salt, past[0].salt);
        assert_ne!(
            past[0].salt.visitor_id("s", ip, "ua"),
            live.salt.visitor_id("s", ip, "ua")
        );
        // ...and each past day is keyed apart.
        assert_ne!(past[1].salt, past[2].salt);

        // Tomorrow, after the overlap, today's salt is deleted and with it the derived keys:
        // the same past day now hashes to ids nobody can link to the earlier ones.
        let later = now + DAY_MS + 2 * HOUR;
        let k = store.keys_for(now - DAY_MS, later).unwrap();
        assert_ne!(k.salt, past[0].salt);
        assert_eq!(store.days(), vec![day_of(later)]);
        assert_eq!(on_disk(dir.path()), vec![day_of(later)]);
    }

    #[test]
    fn yesterdays_kept_salt_serves_yesterdays_events_during_the_overlap() {
        let store = SaltStore::in_memory();
        let evening = 20_000 * DAY_MS + 23 * HOUR;
        let (yesterday, _) = store.salts_at(evening).unwrap();
        let after_midnight = evening + HOUR + 10 * 60_000;
        // An event from before midnight arriving late: the real salt of its day.
        let k = store
            .keys_for(evening + 30 * 60_000, after_midnight)
            .unwrap();
        assert_eq!(
            k,
            DayKeys {
                salt: yesterday,
                previous: None
            }
        );
        // A live event: today's salt, with yesterday's to continue the session.
        let live = store.keys_for(after_midnight, after_midnight).unwrap();
        assert_eq!(live.previous, Some(yesterday));
        assert_ne!(live.salt, yesterday);
        // A sender clock a little ahead before midnight: today's salt, no rotation.
        let store = SaltStore::in_memory();
        let (today, _) = store.salts_at(evening + 50 * 60_000).unwrap();
        let ahead = store
            .keys_for(evening + HOUR + 60_000, evening + 58 * 60_000)
            .unwrap();
        assert_eq!(ahead.salt, today);
        assert_eq!(store.days(), vec![today.day]);
    }

    #[test]
    fn a_clock_stepping_back_keeps_todays_salt() {
        let store = SaltStore::in_memory();
        let t = 20_000 * DAY_MS + 30 * 60_000;
        let (today, _) = store.salts_at(t).unwrap();
        let (back, _) = store.salts_at(t - 2 * HOUR).unwrap();
        assert_eq!(back, today);
        assert_eq!(store.days(), vec![today.day]);
    }

    #[test]
    fn visitor_id_depends_on_every_input() {
        let s = Salt::from_key(day_of(0), [7; 16]);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let base = s.visitor_id("a.example", ip, "UA");
        assert_ne!(base, s.visitor_id("b.example", ip, "UA"));
        assert_ne!(
            base,
            s.visitor_id("a.example", "192.0.2.2".parse().unwrap(), "UA")
        );
        assert_ne!(base, s.visitor_id("a.example", ip, "UA2"));
    }
}
