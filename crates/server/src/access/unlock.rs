//! Unlock cookies of password-protected shared links. The value is `<issued seconds>.<mac>`:
//! the MAC binds the link's token and password hash (which holds a random salt only the server
//! knows) to the issue time, so a cookie opens that link only, dies with a password change,
//! cannot be re-dated, and is refused after [`UNLOCK_TTL_S`] whatever `Max-Age` a copied
//! cookie claims.

use axum::http::HeaderMap;
use blake2::{Blake2s256, Digest};
use waymark_store::SharedLink;

use super::credentials::{constant_time_eq, hex, Clock};
use crate::http::cookies::cookie;

/// Unlock cookies are named this plus the link's id.
pub const UNLOCK_COOKIE_PREFIX: &str = "waymark_share_";
/// How long an unlock cookie opens a password-protected link.
pub const UNLOCK_TTL_S: u64 = 30 * 24 * 3600;

/// The unlock cookie's name for a link.
pub fn unlock_cookie_name(link: &SharedLink) -> String {
    format!("{UNLOCK_COOKIE_PREFIX}{}", link.id)
}

fn unlock_mac(link: &SharedLink, issued_s: u64) -> String {
    let mut h = Blake2s256::new();
    h.update(b"waymark-share-unlock\0");
    h.update(link.token.as_bytes());
    h.update(b"\0");
    h.update(link.password_hash.as_deref().unwrap_or("").as_bytes());
    h.update(b"\0");
    h.update(issued_s.to_le_bytes());
    hex(&h.finalize())
}

/// The unlock cookie's value, issued now.
pub fn unlock_value(link: &SharedLink, clock: Clock) -> String {
    let issued = clock.now_s();
    format!("{issued}.{}", unlock_mac(link, issued))
}

/// Whether the request may see the link: it has no password, or carries an unlock cookie for
/// it issued within [`UNLOCK_TTL_S`].
pub fn link_unlocked(headers: &HeaderMap, link: &SharedLink, clock: Clock) -> bool {
    if link.password_hash.is_none() {
        return true;
    }
    let Some(value) = cookie(headers, &unlock_cookie_name(link)) else {
        return false;
    };
    let Some((issued, mac)) = value.split_once('.') else {
        return false;
    };
    let Ok(issued) = issued.parse::<u64>() else {
        return false;
    };
    let now = clock.now_s();
    // A minute of clock slack forward; nothing older than the TTL.
    if issued > now + 60 || now.saturating_sub(issued) > UNLOCK_TTL_S {
        return false;
    }
    constant_time_eq(mac.as_bytes(), unlock_mac(link, issued).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header;

    #[test]
    fn unlock_cookies_open_their_link_until_they_expire() {
        let link = SharedLink {
            id: "l1".into(),
            site: "a.example".into(),
            name: "board".into(),
            token: "tok".into(),
            password_hash: Some("$argon2id$v=19$secret".into()),
            created_by: "a@x".into(),
            created_ms: 1,
        };
        let with = |value: &str| {
            let mut h = HeaderMap::new();
            h.insert(
                header::COOKIE,
                format!("{}={value}", unlock_cookie_name(&link))
                    .parse()
                    .unwrap(),
            );
            h
        };
        let issued = Clock::Fixed(1_800_000_000_000);
        let cookie = unlock_value(&link, issued);
        assert!(link_unlocked(&with(&cookie), &link, issued));
        assert!(!link_unlocked(&HeaderMap::new(), &link, issued));
        // It opens the link until the TTL has passed, then never again.
        let later = |s: u64| Clock::Fixed(1_800_000_000_000 + (s * 1000) as i64);
        assert!(link_unlocked(&with(&cookie), &link, later(UNLOCK_TTL_S)));
        assert!(!link_unlocked(
            &with(&cookie),
            &link,
            later(UNLOCK_TTL_S + 1)
        ));
        // Re-dated: the MAC no longer fits.
        let (_, mac) = cookie.split_once('.').unwrap();
        let redated = format!("{}.{mac}", issued.now_s() + 5);
        assert!(!link_unlocked(&with(&redated), &link, later(10)));
        // Another password (or link) makes it worthless.
        let mut changed = link.clone();
        changed.password_hash = Some("$argon2id$v=19$other".into());
        assert!(!link_unlocked(&with(&cookie), &changed, issued));
    }
}
