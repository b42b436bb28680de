//! Dashboard accounts: the `waymark user` commands, sign-in with sessions, CSRF, the login rate
//! limit and the entry page, against the real binary.

mod common;

use std::process::{Command, Stdio};

use common::{
    add_user, agent, assert_stored_nowhere, bin, cookie_value, enc, no_redirects, waymark, Server,
};

const SITE: &str = "shop.example";
const EMAIL: &str = "owner@example.com";
const PASSWORD: &str = "tr0ub4dor-and-3-horses";

fn set_cookies(resp: &ureq::http::Response<ureq::Body>) -> Vec<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

/// Fetches `/login`: (csrf cookie value, token in the form, page).
fn login_form(server: &Server) -> (String, String, String) {
    let resp = no_redirects().get(&server.url("/login")).call().unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let cookies = set_cookies(&resp);
    let page = resp.into_body().read_to_string().unwrap();
    let cookie = cookie_value(&cookies, "waymark_csrf").expect("csrf cookie");
    let token = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("csrf field")
        .to_string();
    (cookie, token, page)
}

fn post_form(
    server: &Server,
    path: &str,
    cookie: &str,
    body: &str,
) -> ureq::http::Response<ureq::Body> {
    no_redirects()
        .post(&server.url(path))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Cookie", cookie)
        .send(body.as_bytes())
        .unwrap()
}

fn login_body(email: &str, password: &str, csrf: &str) -> String {
    format!(
        "email={}&password={}&csrf={}",
        enc(email),
        enc(password),
        enc(csrf)
    )
}

#[test]
fn user_commands_add_list_remove_without_echoing_passwords() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let (ok, out, _) = waymark(&["user", "list", "--data-dir", d]);
    assert!(ok && out.contains("no users yet"), "{out}");
    add_user(d, "Admin@Example.com", PASSWORD, true);
    // From the environment variable.
    let out = Command::new(bin())
        .args(["user", "add", "second@example.com", "--data-dir", d])
        .env("WAYMARK_PASSWORD", "another-password-1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // No password at all is refused.
    let out = Command::new(bin())
        .args(["user", "add", "third@example.com", "--data-dir", d])
        .env_remove("WAYMARK_PASSWORD")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let (ok, out, err) = waymark(&["user", "list", "--data-dir", d]);
    assert!(ok, "{err}");
    assert!(out.contains("admin@example.com\tadmin"), "{out}");
    assert!(out.contains("second@example.com\tviewer"), "{out}");
    assert!(!out.contains("third@"), "{out}");
    let (ok, _, err) = waymark(&["user", "remove", "second@example.com", "--data-dir", d]);
    assert!(ok, "{err}");
    let (ok, _, _) = waymark(&["user", "remove", "second@example.com", "--data-dir", d]);
    assert!(!ok, "removing a missing user fails");
    let (_, out, _) = waymark(&["user", "list", "--data-dir", d]);
    assert!(!out.contains("second@"), "{out}");
    // The only admin cannot be turned into a viewer by re-adding them without --admin.
    let out = Command::new(bin())
        .args(["user", "add", "admin@example.com", "--data-dir", d])
        .env("WAYMARK_PASSWORD", "another-password-2")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("only admin"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, out, _) = waymark(&["user", "list", "--data-dir", d]);
    assert!(out.contains("admin@example.com\tadmin"), "{out}");
}

#[test]
fn first_run_login_page_explains_how_to_create_a_user() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[SITE], &[]);
    let (_, _, page) = login_form(&server);
    assert!(
        page.contains("waymark user add you@example.com --admin"),
        "{page}"
    );
}

#[test]
fn sign_in_sessions_csrf_and_rate_limit() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_string();
    add_user(&d, EMAIL, PASSWORD, true);
    let server = Server::start(dir.path(), &[SITE], &[]);

    // Unauthenticated `/` redirects to the sign-in page, which is HTML.
    let resp = no_redirects().get(&server.url("/")).call().unwrap();
    assert_eq!(resp.status().as_u16(), 303);
    assert_eq!(resp.headers()["location"], "/login");
    let resp = agent().get(&server.url("/")).call().unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let (csrf_cookie, token, page) = login_form(&server);
    assert!(page.contains("<html") && page.contains("type=\"password\""));
    assert!(page.contains("name=\"viewport\""));
    assert!(
        !page.contains("waymark user add"),
        "users exist: no first-run notice"
    );
    assert_eq!(csrf_cookie, token);
    let jar = format!("waymark_csrf={csrf_cookie}");

    // A wrong password fails without a session.
    let resp = post_form(
        &server,
        "/login",
        &jar,
        &login_body(EMAIL, "wrong-password", &token),
    );
    assert_eq!(resp.status().as_u16(), 401);
    assert!(cookie_value(&set_cookies(&resp), "waymark_session").is_none());
    // An unknown user likewise.
    let resp = post_form(
        &server,
        "/login",
        &jar,
        &login_body("nobody@example.com", PASSWORD, &token),
    );
    assert_eq!(resp.status().as_u16(), 401);

    // Without the CSRF token (or with a mismatched one) the right password is refused.
    let resp = post_form(&server, "/login", &jar, &login_body(EMAIL, PASSWORD, ""));
    assert_eq!(resp.status().as_u16(), 403);
    assert!(cookie_value(&set_cookies(&resp), "waymark_session").is_none());
    let resp = post_form(&server, "/login", "", &login_body(EMAIL, PASSWORD, &token));
    assert_eq!(resp.status().as_u16(), 403);

    // The right password signs in: a hardened session cookie and a redirect to the first
    // site's dashboard.
    let resp = post_form(
        &server,
        "/login",
        &jar,
        &login_body(EMAIL, PASSWORD, &token),
    );
    assert_eq!(resp.status().as_u16(), 303);
    assert_eq!(resp.headers()["location"], "/sites/shop.example");
    let cookies = set_cookies(&resp);
    let session_cookie = cookies
        .iter()
        .find(|c| c.starts_with("waymark_session="))
        .expect("session cookie")
        .clone();
    assert!(session_cookie.contains("HttpOnly"), "{session_cookie}");
    assert!(
        session_cookie.contains("SameSite=Strict"),
        "{session_cookie}"
    );
    assert!(session_cookie.contains("Path=/"), "{session_cookie}");
    assert!(
        !session_cookie.contains("Secure"),
        "plain HTTP: {session_cookie}"
    );
    let session = cookie_value(&cookies, "waymark_session").unwrap();
    assert_eq!(session.len(), 64, "32 random bytes in hex");
    let fresh_csrf = cookie_value(&cookies, "waymark_csrf").expect("a new CSRF token at sign-in");
    assert!(fresh_csrf.len() == 64 && fresh_csrf != csrf_cookie);
    let jar = format!("waymark_csrf={csrf_cookie}; waymark_session={session}");

    // The cookie opens `/`: the user's name and the sites, linked to their dashboards.
    let resp = no_redirects()
        .get(&server.url("/"))
        .header("Cookie", &jar)
        .call()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let page = resp.into_body().read_to_string().unwrap();
    assert!(page.contains("<title>Waymark</title>"), "{page}");
    assert!(
        page.contains(EMAIL)
            && page.contains("/?site=shop.example")
            && page.contains("href=\"/sites/shop.example\""),
        "{page}"
    );
    let resp = no_redirects()
        .get(&server.url("/?site=shop.example"))
        .header("Cookie", &jar)
        .call()
        .unwrap();
    let page = resp.into_body().read_to_string().unwrap();
    assert!(
        page.contains("Visitors") && page.contains("last 30 days"),
        "{page}"
    );
    // Signed in, `/login` goes to `/`.
    let resp = no_redirects()
        .get(&server.url("/login"))
        .header("Cookie", &jar)
        .call()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 303);
    // A forged session id opens nothing.
    let resp = no_redirects()
        .get(&server.url("/"))
        .header("Cookie", format!("waymark_session={}", "ab".repeat(32)))
        .call()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 303);

    // Sign-out needs the token too, then ends the session.
    let resp = post_form(
        &server,
        "/logout",
        &format!("waymark_session={session}"),
        "csrf=",
    );
    assert_eq!(resp.status().as_u16(), 403);
    let resp = post_form(&server, "/logout", &jar, &format!("csrf={token}"));
    assert_eq!(resp.status().as_u16(), 303);
    assert_eq!(resp.headers()["location"], "/login");
    let resp = no_redirects()
        .get(&server.url("/"))
        .header("Cookie", &jar)
        .call()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 303, "session ended");

    // Ten failures in a row from one address, then even the right password waits.
    for i in 0..10 {
        let resp = post_form(
            &server,
            "/login",
            &jar,
            &login_body(EMAIL, "nope-nope", &token),
        );
        assert_eq!(resp.status().as_u16(), 401, "failure {i}");
    }
    let resp = post_form(
        &server,
        "/login",
        &jar,
        &login_body(EMAIL, PASSWORD, &token),
    );
    assert_eq!(resp.status().as_u16(), 429);
    assert!(cookie_value(&set_cookies(&resp), "waymark_session").is_none());

    // The password is stored nowhere in plain text.
    let mut server = server;
    server.stop();
    assert_stored_nowhere(dir.path(), &[PASSWORD], "the password");
    let rows = server.sql("SELECT password_hash FROM users");
    assert!(
        rows.iter().flatten().any(|c| c.starts_with("$argon2id$")),
        "{rows:?}"
    );
}
