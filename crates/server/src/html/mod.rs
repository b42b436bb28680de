//! Server-rendered HTML for the dashboard entry: plain templates with `{{name}}` holes, filled
//! in one pass with escaped text (or with fragments built here from escaped text), so a value
//! that itself contains `{{...}}` stays text. No JavaScript. Also the responses HTML routes
//! answer with: a page, a redirect, and [`PageError`] (a notice with the status of its kind).

use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use waymark_core::ErrorKind;

use crate::error::ApiError;

const STYLE: &str = include_str!("style.css");
const LOGIN: &str = include_str!("login.html");
const HOME: &str = include_str!("home.html");
const SHARE: &str = include_str!("share.html");

/// Escapes text for HTML element content and double-quoted attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Fills `{{name}}` holes in one pass (`style` is the shared style sheet); values must already
/// be safe HTML. A hole without a value is left as it is.
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + STYLE.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let name = &after[..end];
        match values.iter().find(|(n, _)| *n == name) {
            Some((_, value)) => out.push_str(value),
            None if name == "style" => out.push_str(STYLE),
            None => out.push_str(&rest[start..start + end + 4]),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

fn with_cookies(mut r: Response, cookies: &[String]) -> Response {
    for c in cookies {
        if let Ok(v) = c.parse() {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    r
}

/// An HTML page, never cached, setting `cookies`.
pub fn page(status: StatusCode, html: String, cookies: &[String]) -> Response {
    with_cookies(
        (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response(),
        cookies,
    )
}

/// A page answering a refused form: `kind` picks the status, as for every error.
pub fn refused(kind: ErrorKind, html: String, cookies: &[String]) -> Response {
    page(crate::error::status(&kind), html, cookies)
}

/// `303 See Other` to `to`, setting `cookies`.
pub fn see_other(to: &str, cookies: &[String]) -> Response {
    with_cookies(
        (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_string())]).into_response(),
        cookies,
    )
}

/// An error on an HTML route: a notice page with the status of its kind (the one mapping in
/// [`crate::error`]); the server's own failures show a fixed text and log their cause.
pub struct PageError(pub ApiError);

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> PageError {
        PageError(e)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, text) = self.0.public();
        page(status, notice("Waymark", text), &[])
    }
}

/// The sign-in page. `message` is plain text shown as an alert.
pub fn login(csrf: &str, email: &str, message: Option<&str>, no_users: bool, next: &str) -> String {
    let first_run = if no_users {
        "<section class=\"card\" aria-labelledby=\"first\"><h2 id=\"first\">First run</h2>\
         <p>No users exist yet. Create the first one on the server, then sign in here:</p>\
         <p><code>waymark user add you@example.com --admin</code></p>\
         <p class=\"muted\">The password is read from <code>--password-stdin</code> or the \
         <code>WAYMARK_PASSWORD</code> environment variable.</p></section>"
            .to_string()
    } else {
        String::new()
    };
    let message = message
        .map(|m| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(m)))
        .unwrap_or_default();
    fill(
        LOGIN,
        &[
            ("first_run", &first_run),
            ("message", &message),
            ("csrf", &escape(csrf)),
            ("email", &escape(email)),
            ("next", &escape(next)),
        ],
    )
}

/// The password page of a protected shared link. `message` is plain text shown as an alert.
pub fn share_password(csrf: &str, name: &str, token: &str, message: Option<&str>) -> String {
    let message = message
        .map(|m| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(m)))
        .unwrap_or_default();
    fill(
        SHARE,
        &[
            ("message", &message),
            ("csrf", &escape(csrf)),
            ("name", &escape(name)),
            (
                "action",
                &escape(&format!("/share/{}", query_escape(token))),
            ),
        ],
    )
}

/// A short page for errors on HTML routes.
pub fn notice(title: &str, text: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t} · Waymark</title><style>{STYLE}</style></head><body><main><h1>{t}</h1>\
         <p>{x}</p></main></body></html>",
        t = escape(title),
        x = escape(text)
    )
}

/// Top-line numbers of one site, for the entry page.
pub struct SiteNumbers {
    pub domain: String,
    pub visitors: u64,
    pub visits: u64,
    pub pageviews: u64,
    pub bounce_rate: f64,
    pub visit_duration_s: f64,
}

/// The entry page after sign-in: the user, the sites, and one site's last 30 days if chosen.
pub fn home(csrf: &str, email: &str, sites: &[String], chosen: Option<&SiteNumbers>) -> String {
    let sites_html = if sites.is_empty() {
        "<p>No sites yet. Add one on the server: <code>waymark site add example.com \
         --timezone Europe/Berlin</code></p>"
            .to_string()
    } else {
        let items: String = sites
            .iter()
            .map(|d| {
                format!(
                    "<li><a href=\"/sites/{q}\">{d}</a> \
                     <a class=\"muted\" href=\"/?site={q}\">last 30 days</a></li>",
                    q = escape(&query_escape(d)),
                    d = escape(d)
                )
            })
            .collect();
        format!("<ul class=\"sites\">{items}</ul>")
    };
    let overview = chosen
        .map(|n| {
            format!(
                "<section class=\"card\" aria-labelledby=\"overview\"><h2 id=\"overview\">{} \
                 <span class=\"muted\">· last 30 days</span></h2><dl class=\"numbers\">\
                 <div><dt>Visitors</dt><dd>{}</dd></div><div><dt>Visits</dt><dd>{}</dd></div>\
                 <div><dt>Pageviews</dt><dd>{}</dd></div><div><dt>Bounce rate</dt><dd>{:.0}%</dd></div>\
                 <div><dt>Visit duration</dt><dd>{}</dd></div></dl></section>",
                escape(&n.domain),
                n.visitors,
                n.visits,
                n.pageviews,
                n.bounce_rate,
                duration(n.visit_duration_s)
            )
        })
        .unwrap_or_default();
    fill(
        HOME,
        &[
            ("csrf", &escape(csrf)),
            ("email", &escape(email)),
            ("overview", &overview),
            ("sites", &sites_html),
        ],
    )
}

fn duration(s: f64) -> String {
    let s = s.max(0.0).round() as u64;
    if s >= 60 {
        format!("{}m {:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

/// Percent-encodes a query value (domains are mostly safe already).
pub fn query_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_escape_their_values() {
        let page = login("t<k", "a\"@b", Some("<bad>"), true, "/sites/x\"y");
        assert!(page.contains("value=\"/sites/x&quot;y\""), "{page}");
        assert!(
            page.contains("t&lt;k") && page.contains("a&quot;@b") && page.contains("&lt;bad&gt;")
        );
        assert!(page.contains("waymark user add you@example.com --admin"));
        assert!(!page.contains("{{"));
        let home = home("t", "me@x", &["a.example".into()], None);
        assert!(home.contains("href=\"/?site=a.example\"") && !home.contains("{{"));
        assert!(home.contains("href=\"/sites/a.example\""), "{home}");
        let share = share_password("c", "<b>", "tok", Some("Wrong"));
        assert!(share.contains("&lt;b&gt;") && share.contains("action=\"/share/tok\""));
        assert!(!share.contains("{{"));
        // A value that looks like a hole stays text.
        let page = login("c", "{{next}}", None, false, "/x");
        assert!(page.contains("value=\"{{next}}\""), "{page}");
    }
}
