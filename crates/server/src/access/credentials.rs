//! Secrets and their stored forms: argon2id password hashes (slow, salted), random tokens,
//! BLAKE2s digests of session ids and API keys (fast: those are 32 random bytes, so there is
//! no dictionary to guess from), constant-time comparison, and the [`Clock`] every expiry is
//! measured with (injected, so tests can move time).

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use blake2::{Blake2s256, Digest};
use rand::RngCore;
use subtle::ConstantTimeEq;

use super::AccessError;

/// Personal API keys start with this, so they are recognisable in logs and secret scanners.
pub const KEY_PREFIX: &str = "wmk_";

/// The time access decisions use: the system clock, or a fixed instant (tests).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Clock {
    #[default]
    System,
    /// Milliseconds since the epoch.
    Fixed(i64),
}

impl Clock {
    /// Now, in UTC milliseconds.
    pub fn now_ms(self) -> i64 {
        match self {
            Clock::System => chrono::Utc::now().timestamp_millis(),
            Clock::Fixed(ms) => ms,
        }
    }

    /// Now, in whole seconds since the epoch (never negative).
    pub fn now_s(self) -> u64 {
        u64::try_from(self.now_ms() / 1000).unwrap_or(0)
    }
}

/// Hashes a password as an argon2id PHC string with a random salt.
pub fn hash_password(password: &str) -> Result<String, AccessError> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| AccessError::Hashing(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AccessError::Hashing(e.to_string()))
}

/// Whether `password` matches a PHC hash (false for an unreadable hash).
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A hash verified for unknown emails, so their answer takes as long as a wrong password.
pub(crate) fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| hash_password("waymark-no-such-user").unwrap_or_default())
}

/// A random password of 20 characters from an unambiguous alphabet (the demo's admin).
pub fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut buf = [0u8; 20];
    rand::rng().fill_bytes(&mut buf);
    buf.iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

/// `bytes` random bytes in hex: session ids, CSRF tokens, link tokens, key and link ids.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    hex(&buf)
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The stored form of a session id.
pub fn session_hash(id: &str) -> String {
    hex(&Blake2s256::digest(id.as_bytes()))
}

/// The stored digest of a personal API key; it makes the stored value useless as a credential.
pub fn key_hash(key: &str) -> String {
    hex(&Blake2s256::digest(key.as_bytes()))
}

/// A new personal API key: [`KEY_PREFIX`] and 32 random bytes in hex.
pub fn new_key() -> String {
    format!("{KEY_PREFIX}{}", random_hex(32))
}

/// Byte equality in time independent of where the inputs differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(!h.contains("correct horse"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn digests_tokens_and_comparison() {
        assert_eq!(key_hash("k"), key_hash("k"));
        assert_ne!(key_hash("k"), session_hash("l"));
        assert_eq!(random_hex(32).len(), 64);
        assert!(new_key().starts_with(KEY_PREFIX));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert_eq!(Clock::Fixed(5_000).now_s(), 5);
    }
}
