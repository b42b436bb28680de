//! CSRF protection by double submit: the `waymark_csrf` cookie (SameSite=Strict, so other
//! sites cannot send it) must equal the token a form carries, or the `X-CSRF-Token` header of
//! a cookie-authenticated API write. Compared in constant time.

use axum::http::HeaderMap;
use rand::RngCore;
use subtle::ConstantTimeEq;

use super::cookies::{cookie, set_cookie};

/// The CSRF double-submit cookie's name.
pub const CSRF_COOKIE: &str = "waymark_csrf";
/// The header a cookie-authenticated write must carry, equal to the `waymark_csrf` cookie.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A new token: 32 random bytes in hex (64 characters).
fn new_token() -> String {
    let mut buf = [0u8; 32];
    rand::rng().fill_bytes(&mut buf);
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// The CSRF token of this browser, and a cookie to set when it is new.
pub fn csrf_token(headers: &HeaderMap, secure: bool) -> (String, Option<String>) {
    match cookie(headers, CSRF_COOKIE).filter(|t| t.len() == 64) {
        Some(t) => (t, None),
        None => {
            let t = new_token();
            let c = set_cookie(CSRF_COOKIE, &t, None, secure);
            (t, Some(c))
        }
    }
}

/// A fresh token's cookie (after sign-in, a token planted before is worthless).
pub fn fresh_csrf_cookie(secure: bool) -> String {
    set_cookie(CSRF_COOKIE, &new_token(), None, secure)
}

/// Whether a form's token matches the CSRF cookie (compared in constant time).
pub fn csrf_ok(headers: &HeaderMap, form_token: &str) -> bool {
    cookie(headers, CSRF_COOKIE)
        .is_some_and(|c| bool::from(c.as_bytes().ct_eq(form_token.as_bytes())))
}

/// Whether the `X-CSRF-Token` header equals the CSRF cookie.
pub fn csrf_header_ok(headers: &HeaderMap) -> bool {
    let header = headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    csrf_ok(headers, header)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header;

    #[test]
    fn forms_and_headers_must_match_the_cookie() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; waymark_csrf=abc; b=2".parse().unwrap(),
        );
        assert!(csrf_ok(&h, "abc"));
        assert!(!csrf_ok(&h, "abd"));
        assert!(!csrf_ok(&h, ""));
        assert!(!csrf_ok(&HeaderMap::new(), ""));
        assert!(!csrf_header_ok(&h));
        h.insert(CSRF_HEADER, "abc".parse().unwrap());
        assert!(csrf_header_ok(&h));
        let (t, new) = csrf_token(&HeaderMap::new(), false);
        assert_eq!(t.len(), 64);
        assert!(new.is_some_and(|c| c.starts_with("waymark_csrf=")));
    }
}
