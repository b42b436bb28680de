//! Password guessing limits. Failed attempts are counted per client address, in memory:
//! [`MAX_FAILURES`] per [`FAILURE_WINDOW`] (IPv6 clients per /64, which one client usually
//! holds), then refused until the window passes. Every argon2 check also waits for one of a
//! few permits, so a burst of sign-ins cannot exhaust memory.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed attempts allowed per client IP within [`FAILURE_WINDOW`].
pub const MAX_FAILURES: usize = 10;
/// The window failed attempts are counted in.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);

/// Failed attempts per client address.
#[derive(Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<IpAddr, Vec<Instant>>>,
}

/// The address a limit applies to: the IP itself for IPv4, its /64 for IPv6.
fn limit_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
    }
}

impl LoginLimiter {
    /// Counts an attempt from `ip` as failed before the password is checked, so that parallel
    /// attempts cannot all pass the check first; `false` when the address is already at the
    /// limit. A correct password then calls [`LoginLimiter::clear`].
    pub fn try_attempt(&self, ip: IpAddr) -> bool {
        let key = limit_key(ip);
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        map.retain(|_, v| {
            v.retain(|t| now.duration_since(*t) < FAILURE_WINDOW);
            !v.is_empty()
        });
        let tries = map.entry(key).or_default();
        if tries.len() >= MAX_FAILURES {
            return false;
        }
        tries.push(now);
        true
    }

    pub fn clear(&self, ip: IpAddr) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(&limit_key(ip));
    }
}

/// Password checks running at once. Each argon2 check holds ~19 MiB and a core for a moment;
/// unbounded, a burst of sign-ins could exhaust memory. Others wait their turn.
static PASSWORD_CHECKS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

/// Runs `work` (an argon2 hash or check) on the blocking pool, at most [`PASSWORD_CHECKS`]'
/// permits at a time; `None` when the worker was lost.
pub async fn checked_password<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    let _permit = PASSWORD_CHECKS.acquire().await.ok()?;
    tokio::task::spawn_blocking(work).await.ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiter_blocks_after_max_failures() {
        let l = LoginLimiter::default();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..MAX_FAILURES {
            assert!(l.try_attempt(ip));
        }
        assert!(!l.try_attempt(ip));
        assert!(l.try_attempt("192.0.2.2".parse().unwrap()));
        l.clear(ip);
        assert!(l.try_attempt(ip));
    }

    #[test]
    fn ipv6_clients_are_limited_per_64() {
        let l = LoginLimiter::default();
        for i in 0..MAX_FAILURES {
            let ip: IpAddr = format!("2001:db8:1:2::{:x}", i + 1).parse().unwrap();
            assert!(l.try_attempt(ip));
        }
        assert!(!l.try_attempt("2001:db8:1:2:ffff::1".parse().unwrap()));
        assert!(l.try_attempt("2001:db8:1:3::1".parse().unwrap()));
    }
}
