//! Daily secret salts for visitor ids. A salt lives for its UTC day plus a short overlap (so a
//! session crossing midnight continues); expired salts are deleted from disk and memory.

use std::hash::Hasher;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use parking_lot::Mutex;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use siphasher::sip::SipHasher24;

/// How long after its day ends a salt is still used to continue sessions.
pub const SALT_OVERLAP_MS: i64 = 3600 * 1000;

/// A 16-byte random key for one UTC day.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// Salts persisted in `<data-dir>/salts.json` (written atomically), so visitor ids stay stable
/// across a restart within a day.
pub struct SaltStore {
    path: Option<PathBuf>,
    salts: Mutex<Vec<Salt>>,
}

impl SaltStore {
    /// Opens (or creates) the salt file in `dir`.
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
        Ok(SaltStore {
            path: Some(path),
            salts: Mutex::new(salts),
        })
    }

    /// A store that keeps salts in memory only (tests, benchmarks).
    pub fn in_memory() -> SaltStore {
        SaltStore {
            path: None,
            salts: Mutex::new(Vec::new()),
        }
    }

    /// The current salt for instant `now_ms` and, within the overlap after midnight, the
    /// previous day's salt. Rotates (creating today's, deleting expired) as a side effect.
    pub fn salts_at(&self, now_ms: i64) -> Result<(Salt, Option<Salt>), SaltError> {
        let today = day_of(now_ms);
        let mut salts = self.salts.lock();
        let has_today = salts.iter().any(|s| s.day == today);
        let before = salts.len();
        salts.retain(|s| {
            s.day == today || (s.day.succ_opt() == Some(today) && within_overlap(now_ms))
        });
        if !has_today {
            salts.push(Salt::random(today));
        }
        if !has_today || salts.len() != before {
            self.persist(&salts)?;
        }
        let current = salts
            .iter()
            .find(|s| s.day == today)
            .cloned()
            .unwrap_or_else(|| Salt::random(today));
        let previous = salts.iter().find(|s| s.day != today).cloned();
        Ok((current, previous))
    }

    /// Deletes expired salts now (called by a timer so they go even when no events arrive).
    pub fn rotate(&self, now_ms: i64) -> Result<(), SaltError> {
        self.salts_at(now_ms).map(|_| ())
    }

    /// The days for which a salt is currently kept.
    pub fn days(&self) -> Vec<NaiveDate> {
        self.salts.lock().iter().map(|s| s.day).collect()
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
        Ok(())
    }
}

fn day_of(ms: i64) -> NaiveDate {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .date_naive()
}

fn within_overlap(now_ms: i64) -> bool {
    now_ms.rem_euclid(86_400_000) < SALT_OVERLAP_MS
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    #[test]
    fn rotates_at_midnight_and_deletes_expired() {
        let dir = tempfile::tempdir().unwrap();
        let store = SaltStore::open(dir.path()).unwrap();
        let t0 = 20_000 * DAY + 12 * 3600 * 1000; // noon
        let (a, prev) = store.salts_at(t0).unwrap();
        assert!(prev.is_none());
        let ip: IpAddr = "203.0.113.9".parse().unwrap();
        // Stable within the day and across a reopen.
        let reopened = SaltStore::open(dir.path()).unwrap();
        let (a2, _) = reopened.salts_at(t0 + 3600 * 1000).unwrap();
        assert_eq!(a.visitor_id("s", ip, "ua"), a2.visitor_id("s", ip, "ua"));
        // Just after midnight: a new salt, yesterday's kept for the overlap.
        let (b, prev) = reopened.salts_at(t0 + 12 * 3600 * 1000 + 60_000).unwrap();
        assert_ne!(a.visitor_id("s", ip, "ua"), b.visitor_id("s", ip, "ua"));
        assert_eq!(prev.map(|p| p.day), Some(a.day));
        // After the overlap yesterday's salt is gone, from memory and from disk.
        reopened
            .rotate(t0 + 12 * 3600 * 1000 + 2 * 3600 * 1000)
            .unwrap();
        assert_eq!(reopened.days(), vec![b.day]);
        let on_disk = SaltStore::open(dir.path()).unwrap();
        assert_eq!(on_disk.days(), vec![b.day]);
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
