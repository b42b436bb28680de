//! Sessions: the same visitor on the same site with gaps under 30 minutes. Kept in memory,
//! bounded by pruning idle visitors; restored from the store's last half hour at start.

use std::collections::HashMap;
use std::hash::Hasher;

use siphasher::sip::SipHasher13;

/// Inactivity that ends a session.
pub const SESSION_TIMEOUT_MS: i64 = 30 * 60 * 1000;

#[derive(Debug, Clone, Copy)]
struct Open {
    session_id: u64,
    last_ms: i64,
}

/// Assigns session ids to (site, visitor) activity.
#[derive(Default)]
pub struct Sessionizer {
    open: HashMap<(u64, u64), Open>,
    last_prune_ms: i64,
}

fn site_key(site: &str) -> u64 {
    let mut h = SipHasher13::new();
    h.write(site.as_bytes());
    h.finish()
}

impl Sessionizer {
    pub fn new() -> Sessionizer {
        Sessionizer::default()
    }

    /// Restores an open session (from stored events) so a restart does not split visits.
    pub fn restore(&mut self, site: &str, visitor_id: u64, session_id: u64, last_ms: i64) {
        let e = self
            .open
            .entry((site_key(site), visitor_id))
            .or_insert(Open {
                session_id,
                last_ms,
            });
        if last_ms >= e.last_ms {
            *e = Open {
                session_id,
                last_ms,
            };
        }
    }

    /// The session id for an event at `ts_ms`. `previous_visitor` is the id under yesterday's
    /// salt (during the overlap after midnight) so a session crossing midnight continues; the
    /// session is then carried over to the new visitor id.
    pub fn session_for(
        &mut self,
        site: &str,
        visitor_id: u64,
        previous_visitor: Option<u64>,
        ts_ms: i64,
    ) -> u64 {
        let sk = site_key(site);
        if ts_ms - self.last_prune_ms > SESSION_TIMEOUT_MS {
            self.prune(ts_ms);
        }
        let carried = previous_visitor
            .filter(|_| !self.open.contains_key(&(sk, visitor_id)))
            .and_then(|p| self.open.remove(&(sk, p)));
        if let Some(open) = carried {
            self.open.insert((sk, visitor_id), open);
        }
        let entry = self.open.entry((sk, visitor_id));
        let open = entry.or_insert(Open {
            session_id: new_session_id(sk, visitor_id, ts_ms),
            last_ms: ts_ms,
        });
        if (ts_ms - open.last_ms).abs() >= SESSION_TIMEOUT_MS && ts_ms > open.last_ms {
            *open = Open {
                session_id: new_session_id(sk, visitor_id, ts_ms),
                last_ms: ts_ms,
            };
        }
        open.last_ms = open.last_ms.max(ts_ms);
        open.session_id
    }

    fn prune(&mut self, now_ms: i64) {
        self.open
            .retain(|_, o| now_ms - o.last_ms < SESSION_TIMEOUT_MS);
        self.last_prune_ms = now_ms;
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

    #[test]
    fn gaps_under_thirty_minutes_stay_in_one_session() {
        let mut s = Sessionizer::new();
        let a = s.session_for("x", 1, None, 0);
        assert_eq!(a, s.session_for("x", 1, None, 29 * MIN));
        assert_eq!(a, s.session_for("x", 1, None, 58 * MIN));
        let b = s.session_for("x", 1, None, 88 * MIN);
        assert_ne!(a, b, "a 30 minute gap starts a new session");
        assert_ne!(
            s.session_for("y", 1, None, 88 * MIN),
            b,
            "sites are separate"
        );
        assert_ne!(
            s.session_for("x", 2, None, 88 * MIN),
            b,
            "visitors are separate"
        );
    }

    #[test]
    fn midnight_carries_the_session_to_the_new_visitor_id() {
        let mut s = Sessionizer::new();
        let a = s.session_for("x", 1, None, 0);
        assert_eq!(a, s.session_for("x", 99, Some(1), 10 * MIN));
        assert_eq!(a, s.session_for("x", 99, None, 20 * MIN));
    }
}
