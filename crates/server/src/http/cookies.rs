//! Cookies: reading one from a request, writing `Set-Cookie` values (HttpOnly, SameSite=Strict,
//! Path=/, Secure when the request came over TLS through a trusted proxy).

use std::net::IpAddr;

use axum::http::{header, HeaderMap};

use crate::state::AppState;

/// The session cookie's name: a random 32-byte id, stored only as a digest.
pub const SESSION_COOKIE: &str = "waymark_session";

/// A cookie's value (none when absent or empty).
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Whether the request reached the proxy over TLS (believed only from a trusted proxy).
pub fn over_tls(state: &AppState, peer: IpAddr, headers: &HeaderMap) -> bool {
    state.config.trusted_proxies.contains(peer)
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').next().unwrap_or("").trim() == "https")
}

/// A `Set-Cookie` value; `max_age` in seconds (`Some(0)` deletes the cookie).
pub fn set_cookie(name: &str, value: &str, max_age: Option<u64>, secure: bool) -> String {
    let mut c = format!("{name}={value}; HttpOnly; SameSite=Strict; Path=/");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_one_cookie_among_many() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, "a=1; waymark_csrf=abc; b=".parse().unwrap());
        assert_eq!(cookie(&h, "waymark_csrf").as_deref(), Some("abc"));
        assert_eq!(cookie(&h, "b"), None);
        assert_eq!(
            set_cookie("n", "v", Some(0), true),
            "n=v; HttpOnly; SameSite=Strict; Path=/; Max-Age=0; Secure"
        );
    }
}
