//! Access control against the real binary: every documented route walked with no credentials,
//! a viewer, a shared link and narrow keys; grants, personal keys (shown once, hashed at rest),
//! shared-link passwords, the CSRF header on cookie writes, and the demo's admin.

mod common;

use common::{add_user, assert_stored_nowhere, cookie_value, enc, no_redirects, waymark, Server};
use serde_json::{json, Value};
use waymark_server::routes::assets::openapi::ROUTES;

const A: &str = "a.example";
const B: &str = "b.example";
const ADMIN: &str = "admin@example.com";
const VIEWER: &str = "viewer@example.com";
const PASSWORD: &str = "correct-horse-battery";
const SERVER_KEY: &str = "server-wide-key-1";

/// An answer: status, headers we look at, body text.
struct Answer {
    status: u16,
    location: String,
    cookies: Vec<String>,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// Credentials for one request.
#[derive(Default, Clone)]
struct Creds {
    cookie: Option<String>,
    csrf: Option<String>,
    bearer: Option<String>,
    share: Option<String>,
}

fn send(server: &Server, method: &str, path: &str, creds: &Creds, body: Option<&str>) -> Answer {
    let url = server.url(path);
    let a = no_redirects();
    macro_rules! with_creds {
        ($r:expr) => {{
            let mut r = $r;
            if let Some(c) = &creds.cookie {
                r = r.header("Cookie", c);
            }
            if let Some(t) = &creds.csrf {
                r = r.header("X-CSRF-Token", t);
            }
            if let Some(k) = &creds.bearer {
                r = r.header("Authorization", &format!("Bearer {k}"));
            }
            if let Some(s) = &creds.share {
                r = r.header("X-Waymark-Share", s);
            }
            r
        }};
    }
    let body = body.unwrap_or("{}");
    let resp = match method {
        "get" => with_creds!(a.get(&url)).call(),
        "delete" => with_creds!(a.delete(&url)).call(),
        "put" => with_creds!(a.put(&url).header("Content-Type", "application/json"))
            .send(body.as_bytes()),
        _ => {
            let ct = if path == "/login" || path == "/logout" || path.starts_with("/share/") {
                "application/x-www-form-urlencoded"
            } else {
                "application/json"
            };
            with_creds!(a.post(&url).header("Content-Type", ct)).send(body.as_bytes())
        }
    }
    .expect("request");
    let status = resp.status().as_u16();
    let location = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let cookies = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let body = resp.into_body().read_to_string().unwrap_or_default();
    Answer {
        status,
        location,
        cookies,
        body,
    }
}

/// Signs in through the form; returns the session's credentials and where the login went.
fn sign_in(server: &Server, email: &str, next: Option<&str>) -> (Creds, String) {
    let page = send(server, "get", "/login", &Creds::default(), None);
    let csrf = cookie_value(&page.cookies, "waymark_csrf").expect("csrf cookie");
    let body = format!(
        "email={}&password={}&csrf={}&next={}",
        enc(email),
        enc(PASSWORD),
        enc(&csrf),
        enc(next.unwrap_or(""))
    );
    let jar = format!("waymark_csrf={csrf}");
    let resp = send(
        server,
        "post",
        "/login",
        &Creds {
            cookie: Some(jar.clone()),
            ..Creds::default()
        },
        Some(&body),
    );
    assert_eq!(resp.status, 303, "{}", resp.body);
    let session = cookie_value(&resp.cookies, "waymark_session").expect("session cookie");
    (
        Creds {
            cookie: Some(format!("{jar}; waymark_session={session}")),
            csrf: Some(csrf),
            ..Creds::default()
        },
        resp.location,
    )
}

/// `waymark key add`: the key printed on standard output.
fn cli_key(dir: &str, email: &str, scopes: &str) -> String {
    let (ok, out, err) = waymark(&[
        "key",
        "add",
        email,
        "--name",
        "test",
        "--scopes",
        scopes,
        "--data-dir",
        dir,
    ]);
    assert!(ok, "{err}");
    let key = out.trim().to_string();
    assert!(key.starts_with("wmk_") && key.len() > 40, "{out}");
    key
}

/// A data dir with two sites, an admin, a viewer granted `A`, and keys; the server running.
struct World {
    _dir: tempfile::TempDir,
    server: Server,
    admin: Creds,
    viewer: Creds,
    viewer_key: String,
    admin_read_key: String,
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_string();
    for s in [A, B] {
        let (ok, _, err) = waymark(&["site", "add", s, "--data-dir", &d]);
        assert!(ok, "{err}");
    }
    add_user(&d, ADMIN, PASSWORD, true);
    add_user(&d, VIEWER, PASSWORD, false);
    let (ok, out, err) = waymark(&["user", "grant", VIEWER, A, "--data-dir", &d]);
    assert!(ok && out.contains("may now read"), "{out}{err}");
    let viewer_key = cli_key(&d, VIEWER, "stats:read");
    let admin_read_key = cli_key(&d, ADMIN, "stats:read");
    let server = Server::start(dir.path(), &[], &["--api-keys", SERVER_KEY]);
    let (admin, _) = sign_in(&server, ADMIN, None);
    let (viewer, _) = sign_in(&server, VIEWER, None);
    World {
        _dir: dir,
        server,
        admin,
        viewer,
        viewer_key,
        admin_read_key,
    }
}

fn bearer(key: &str) -> Creds {
    Creds {
        bearer: Some(key.to_string()),
        ..Creds::default()
    }
}

fn create_link(w: &World, site: &str, password: Option<&str>) -> Value {
    let body = match password {
        Some(p) => json!({"name": "board", "password": p}),
        None => json!({"name": "board"}),
    };
    let r = send(
        &w.server,
        "post",
        &format!("/api/sites/{site}/shared-links"),
        &w.admin,
        Some(&body.to_string()),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()
}

/// A route's path with its parameters filled in.
fn fill(path: &str, site: &str, token: &str) -> String {
    path.replace("{site}", site)
        .replace(
            "{name}",
            if path.starts_with("/js/") {
                "script.js"
            } else {
                "x"
            },
        )
        .replace("{template}", "saas")
        .replace("{id}", "nonexistent")
        .replace("{email}", "nobody@example.com")
        .replace("{token}", token)
        .replace("{file}", "x.js")
        .replace("{*rest}", "funnels")
}

fn body_for(path: &str, site: &str) -> String {
    if path == "/api/v2/query" {
        json!({"site_id": site, "metrics": ["visitors"], "date_range": "all"}).to_string()
    } else {
        "{}".to_string()
    }
}

#[test]
fn every_route_answers_each_kind_of_caller_as_documented() {
    let w = world();
    let link = create_link(&w, A, None);
    let token = link["token"].as_str().unwrap().to_string();
    let shared = Creds {
        share: Some(token.clone()),
        ..Creds::default()
    };
    let kinds: Vec<&str> = ROUTES.iter().map(|r| r.auth).collect();
    for k in [
        "none", "optional", "read", "write", "admin", "any", "keys", "session",
    ] {
        assert!(kinds.contains(&k), "no route with auth {k}");
    }
    for route in ROUTES {
        let (m, auth) = (route.method, route.auth);
        let on_a = fill(route.path, A, &token);
        let on_b = fill(route.path, B, &token);
        let what = format!("{m} {} ({auth})", route.path);
        let names_site = route.path.contains("{site}") || route.path == "/api/v2/query";

        // No credentials.
        let r = send(
            &w.server,
            m,
            &on_a,
            &Creds::default(),
            Some(&body_for(route.path, A)),
        );
        match auth {
            "none" | "optional" => assert_ne!(r.status, 401, "{what}: {}", r.body),
            "session" => {
                assert_eq!(r.status, 303, "{what}");
                assert!(r.location.starts_with("/login"), "{what}: {}", r.location);
            }
            _ => {
                assert_eq!(r.status, 401, "{what}: {}", r.body);
                assert!(r.json()["error"].is_string(), "{what}: {}", r.body);
            }
        }
        if matches!(auth, "none" | "optional" | "session") {
            continue;
        }

        // A viewer (cookie, with the CSRF header) and their stats:read key on a site not granted.
        if names_site {
            for creds in [&w.viewer, &bearer(&w.viewer_key)] {
                let r = send(&w.server, m, &on_b, creds, Some(&body_for(route.path, B)));
                assert_eq!(r.status, 403, "{what} as a viewer on {B}: {}", r.body);
                assert!(r.json()["error"].as_str().unwrap().contains("forbidden"));
            }
        }
        // A viewer never gets past admin routes or writes, even on their own site.
        if matches!(auth, "write" | "admin") {
            let r = send(
                &w.server,
                m,
                &on_a,
                &w.viewer,
                Some(&body_for(route.path, A)),
            );
            assert_eq!(r.status, 403, "{what} as a viewer: {}", r.body);
            assert!(
                r.json()["error"].as_str().unwrap().contains("admin role"),
                "{}",
                r.body
            );
        }

        // The shared link reads its own site only.
        let r = send(&w.server, m, &on_a, &shared, Some(&body_for(route.path, A)));
        match auth {
            "read" | "any" => assert!(
                r.status != 401 && r.status != 403,
                "{what} via the link: {} {}",
                r.status,
                r.body
            ),
            _ => assert!(
                r.status == 403 || r.status == 401,
                "{what} via the link: {} {}",
                r.status,
                r.body
            ),
        }
        if names_site {
            let r = send(&w.server, m, &on_b, &shared, Some(&body_for(route.path, B)));
            assert!(
                r.status == 403 || r.status == 401,
                "{what} via the link on {B}: {}",
                r.body
            );
        }

        // An admin's key without the right scope.
        if matches!(auth, "write" | "admin" | "keys") {
            let r = send(&w.server, m, &on_a, &bearer(&w.admin_read_key), Some("{}"));
            assert_eq!(r.status, 403, "{what} with a stats:read key: {}", r.body);
            let scope = if auth == "write" {
                "definitions:write"
            } else {
                "sites:admin"
            };
            assert!(r.body.contains(scope), "{what}: {}", r.body);
        }

        // The right caller gets through: the admin session, and the server-wide key.
        if m == "delete" {
            continue; // deletions are exercised by the tests below
        }
        // Keys belong to people: a server-wide key cannot create one.
        let server_key = bearer(SERVER_KEY);
        let callers = if auth == "keys" {
            vec![&w.admin]
        } else {
            vec![&w.admin, &server_key]
        };
        for creds in callers {
            let r = send(&w.server, m, &on_a, creds, Some(&body_for(route.path, A)));
            assert!(
                r.status != 401 && r.status != 403,
                "{what} as admin: {} {}",
                r.status,
                r.body
            );
        }
        // Reads need no CSRF header, even of admin data; changes do.
        let bare = Creds {
            csrf: None,
            ..w.admin.clone()
        };
        let r = send(&w.server, m, &on_a, &bare, Some(&body_for(route.path, A)));
        if m == "get" || auth == "read" {
            assert!(
                r.status != 401 && r.status != 403,
                "{what} without the CSRF header: {} {}",
                r.status,
                r.body
            );
        } else {
            assert_eq!(r.status, 403, "{what} without the CSRF header: {}", r.body);
            assert!(r.body.contains("X-CSRF-Token"), "{what}: {}", r.body);
        }
    }
    // Reads the viewer is granted work with the cookie and with the key.
    for creds in [&w.viewer, &bearer(&w.viewer_key)] {
        let r = send(
            &w.server,
            "post",
            "/api/v2/query",
            creds,
            Some(&body_for("/api/v2/query", A)),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        let r = send(
            &w.server,
            "get",
            &format!("/api/sites/{A}/funnels"),
            creds,
            None,
        );
        assert_eq!(r.status, 200, "{}", r.body);
    }
}

#[test]
fn grants_decide_what_a_viewer_sees_and_where_login_goes() {
    let w = world();
    let s = &w.server;
    let d = s.dir.to_str().unwrap().to_string();
    // The viewer's session names them, their role and only their site.
    let r = send(s, "get", "/api/session", &w.viewer, None);
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(
        (v["mode"].as_str(), v["role"].as_str()),
        (Some("user"), Some("viewer"))
    );
    assert_eq!(v["email"], json!(VIEWER));
    assert_eq!(v["sites"], json!([{"domain": A, "timezone": "UTC"}]));
    assert_eq!(v["csrf_token"], json!(w.viewer.csrf.clone().unwrap()));
    let r = send(s, "get", "/api/session", &w.admin, None);
    assert_eq!(r.json()["sites"].as_array().unwrap().len(), 2);
    assert_eq!(r.json()["role"], json!("admin"));
    // A first visit gets its CSRF cookie from /api/session.
    let r = send(
        s,
        "get",
        "/api/session",
        &Creds {
            csrf: None,
            ..w.viewer.clone()
        },
        None,
    );
    assert_eq!(r.status, 200);

    // The entry page lists the viewer's site only, linked to its dashboard.
    let page = send(s, "get", "/", &w.viewer, None);
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("href=\"/sites/a.example\""),
        "{}",
        page.body
    );
    assert!(!page.body.contains(B), "{}", page.body);
    let page = send(s, "get", &format!("/?site={B}"), &w.viewer, None);
    assert!(
        !page.body.contains("last 30 days</span>"),
        "no numbers for {B}"
    );

    // After signing in: the first readable site's dashboard, or a same-origin `next`.
    let (_, to) = sign_in(s, VIEWER, None);
    assert_eq!(to, "/sites/a.example");
    let (_, to) = sign_in(s, ADMIN, Some("/sites/b.example/funnels"));
    assert_eq!(to, "/sites/b.example/funnels");
    let (_, to) = sign_in(s, ADMIN, Some("//evil.example/x"));
    assert_eq!(to, "/sites/a.example");
    let page = send(
        s,
        "get",
        "/login?next=/sites/b.example",
        &Creds::default(),
        None,
    );
    assert!(
        page.body
            .contains("name=\"next\" value=\"/sites/b.example\""),
        "{}",
        page.body
    );

    // An admin moves the viewer from A to B over the API.
    let path = format!("/api/users/{VIEWER}/grants");
    let r = send(
        s,
        "put",
        &path,
        &w.admin,
        Some(&json!({"sites": [B]}).to_string()),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = send(
        s,
        "put",
        &path,
        &w.admin,
        Some(&json!({"sites": ["nope.example"]}).to_string()),
    );
    assert_eq!((r.status, r.json()["field"].as_str()), (400, Some("sites")));
    let conv = |site: &str| {
        send(
            s,
            "get",
            &format!("/api/sites/{site}/conversions"),
            &w.viewer,
            None,
        )
        .status
    };
    assert_eq!((conv(A), conv(B)), (403, 200));
    let r = send(s, "get", "/api/users", &w.admin, None);
    let users = r.json()["users"].as_array().unwrap().clone();
    let viewer = users.iter().find(|u| u["email"] == json!(VIEWER)).unwrap();
    assert_eq!(viewer["sites"], json!([B]));
    assert_eq!(viewer["role"], json!("viewer"));

    // Users over the API: create a viewer with a site, refuse bad input, delete.
    let r = send(s, "post", "/api/users", &w.admin, Some(&json!({"email": "New@Example.com", "password": "long-enough-1", "role": "viewer", "sites": [A]}).to_string()));
    assert_eq!(r.status, 201, "{}", r.body);
    let r = send(
        s,
        "post",
        "/api/users",
        &w.admin,
        Some(
            &json!({"email": "new@example.com", "password": "long-enough-1", "role": "viewer"})
                .to_string(),
        ),
    );
    assert_eq!(r.status, 409, "{}", r.body);
    let r = send(
        s,
        "post",
        "/api/users",
        &w.admin,
        Some(&json!({"email": "x@example.com", "password": "short", "role": "viewer"}).to_string()),
    );
    assert_eq!(
        (r.status, r.json()["field"].as_str()),
        (400, Some("password"))
    );
    let r = send(
        s,
        "post",
        "/api/users",
        &w.admin,
        Some(
            &json!({"email": "x@example.com", "password": "long-enough-1", "role": "owner"})
                .to_string(),
        ),
    );
    assert_eq!((r.status, r.json()["field"].as_str()), (400, Some("role")));
    let r = send(s, "delete", &format!("/api/users/{ADMIN}"), &w.admin, None);
    assert_eq!(r.status, 409, "the last admin stays: {}", r.body);
    let r = send(s, "delete", "/api/users/new@example.com", &w.admin, None);
    assert_eq!(r.status, 204, "{}", r.body);

    // The CLI shows and changes grants (on the stopped server's data).
    let mut server = w.server;
    server.stop();
    let (ok, out, _) = waymark(&["user", "list", "--data-dir", &d]);
    assert!(ok);
    assert!(out.contains(&format!("{VIEWER}\tviewer")), "{out}");
    assert!(
        out.lines().any(|l| l.starts_with(VIEWER) && l.ends_with(B)),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with(ADMIN) && l.ends_with("all sites")),
        "{out}"
    );
    let (ok, _, err) = waymark(&["user", "revoke", VIEWER, B, "--data-dir", &d]);
    assert!(ok, "{err}");
    let (ok, _, _) = waymark(&["user", "revoke", VIEWER, B, "--data-dir", &d]);
    assert!(!ok, "revoking twice fails");
    let (ok, _, err) = waymark(&["user", "grant", VIEWER, "nope.example", "--data-dir", &d]);
    assert!(!ok && err.contains("no site"), "{err}");
    let (_, out, _) = waymark(&["user", "list", "--data-dir", &d]);
    assert!(
        out.lines()
            .any(|l| l.starts_with(VIEWER) && l.ends_with("no sites")),
        "{out}"
    );
}

#[test]
fn personal_keys_are_shown_once_scoped_and_hashed_at_rest() {
    let w = world();
    let s = &w.server;
    // Created over the API by the signed-in admin: the key comes back once.
    let r = send(
        s,
        "post",
        "/api/keys",
        &w.admin,
        Some(&json!({"name": "export", "scopes": ["stats:read", "definitions:write"]}).to_string()),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let created = r.json();
    let key = created["key"].as_str().unwrap().to_string();
    let id = created["id"].as_str().unwrap().to_string();
    assert!(key.starts_with("wmk_") && key.starts_with(created["prefix"].as_str().unwrap()));
    let listed = send(s, "get", "/api/keys", &w.admin, None);
    assert!(
        !listed.body.contains(&key),
        "a list never shows keys: {}",
        listed.body
    );
    assert!(listed.body.contains(&id));
    // The viewer sees only their own key, and may not mint admin scopes.
    let mine = send(s, "get", "/api/keys", &w.viewer, None).json();
    assert_eq!(mine["keys"].as_array().unwrap().len(), 1, "{mine}");
    assert_eq!(mine["keys"][0]["owner"], json!(VIEWER));
    let r = send(
        s,
        "post",
        "/api/keys",
        &w.viewer,
        Some(&json!({"name": "x", "scopes": ["definitions:write"]}).to_string()),
    );
    assert_eq!(r.status, 403, "{}", r.body);
    let r = send(
        s,
        "post",
        "/api/keys",
        &w.viewer,
        Some(&json!({"name": "x", "scopes": ["everything"]}).to_string()),
    );
    assert_eq!(
        (r.status, r.json()["field"].as_str()),
        (400, Some("scopes"))
    );
    // Someone else's key is not there for the viewer to delete.
    let r = send(s, "delete", &format!("/api/keys/{id}"), &w.viewer, None);
    assert_eq!(r.status, 404);

    // The key works within its scopes, and its use is recorded.
    let query = body_for("/api/v2/query", A);
    let r = send(s, "post", "/api/v2/query", &bearer(&key), Some(&query));
    assert_eq!(r.status, 200, "{}", r.body);
    let conv = json!({"name": "Signup", "kind": "macro", "trigger": "event Signup"}).to_string();
    let r = send(
        s,
        "post",
        &format!("/api/sites/{A}/conversions"),
        &bearer(&key),
        Some(&conv),
    );
    assert_eq!(
        r.status, 201,
        "definitions:write, no CSRF needed: {}",
        r.body
    );
    let r = send(
        s,
        "post",
        "/api/sites",
        &bearer(&key),
        Some(&json!({"domain": "c.example"}).to_string()),
    );
    assert_eq!(r.status, 403);
    assert!(r.body.contains("sites:admin"), "{}", r.body);
    let listed = send(s, "get", "/api/keys", &w.admin, None).json();
    let k = listed["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == json!(id))
        .unwrap()
        .clone();
    assert!(k["last_used_at"].is_string(), "{k}");
    // A wrong key and a deleted key are 401.
    let r = send(
        s,
        "post",
        "/api/v2/query",
        &bearer("wmk_0000"),
        Some(&query),
    );
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (401, Some("unknown API key"))
    );
    let r = send(s, "delete", &format!("/api/keys/{id}"), &w.admin, None);
    assert_eq!(r.status, 204);
    let r = send(s, "post", "/api/v2/query", &bearer(&key), Some(&query));
    assert_eq!(r.status, 401);

    // The CLI's keys: listed by prefix, never in full.
    let mut server = w.server;
    server.stop();
    let d = server.dir.to_str().unwrap().to_string();
    let (ok, out, _) = waymark(&["key", "list", "--data-dir", &d]);
    assert!(
        ok && out.contains(VIEWER) && out.contains("stats:read"),
        "{out}"
    );
    assert!(!out.contains(&w.viewer_key), "{out}");
    assert!(out.contains(&w.viewer_key[..12]), "prefix shown: {out}");
    let (ok, _, err) = waymark(&[
        "key",
        "add",
        VIEWER,
        "--name",
        "x",
        "--scopes",
        "sites:admin",
        "--data-dir",
        &d,
    ]);
    assert!(!ok && err.contains("admin role"), "{err}");

    // No plain key anywhere in the data directory.
    let keys = [
        key.as_str(),
        w.viewer_key.as_str(),
        w.admin_read_key.as_str(),
    ];
    assert_stored_nowhere(&server.dir, &keys, "a plain key");
    let rows = server.sql("SELECT key_hash, prefix FROM api_keys");
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows.iter().all(|r| r[0].len() == 64), "{rows:?}");
}

#[test]
fn shared_links_open_one_site_read_only_behind_an_optional_password() {
    let w = world();
    let s = &w.server;
    let link = create_link(&w, A, Some("open-sesame-1"));
    let token = link["token"].as_str().unwrap().to_string();
    let id = link["id"].as_str().unwrap().to_string();
    assert_eq!(link["url"], json!(format!("/share/{token}")));
    assert_eq!(link["protected"], json!(true));
    let r = send(
        s,
        "post",
        &format!("/api/sites/{A}/shared-links"),
        &w.admin,
        Some(&json!({"name": "x", "password": "short"}).to_string()),
    );
    assert_eq!(
        (r.status, r.json()["field"].as_str()),
        (400, Some("password"))
    );
    let listed = send(
        s,
        "get",
        &format!("/api/sites/{A}/shared-links"),
        &w.admin,
        None,
    )
    .json();
    assert_eq!(listed["links"].as_array().unwrap().len(), 1);

    // Locked: a password page, and the API refuses the token alone.
    let path = format!("/share/{token}");
    let page = send(s, "get", &path, &Creds::default(), None);
    assert_eq!(page.status, 200);
    assert!(page.body.contains("type=\"password\""), "{}", page.body);
    let csrf = cookie_value(&page.cookies, "waymark_csrf").unwrap();
    let share = Creds {
        share: Some(token.clone()),
        ..Creds::default()
    };
    let query = body_for("/api/v2/query", A);
    let r = send(s, "post", "/api/v2/query", &share, Some(&query));
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(r.body.contains("password"), "{}", r.body);

    // The form needs its CSRF token; a wrong password is refused.
    let jar = Creds {
        cookie: Some(format!("waymark_csrf={csrf}")),
        ..Creds::default()
    };
    let r = send(s, "post", &path, &jar, Some("password=open-sesame-1&csrf="));
    assert_eq!(r.status, 403);
    let r = send(
        s,
        "post",
        &path,
        &jar,
        Some(&format!("password=wrong-one&csrf={csrf}")),
    );
    assert_eq!(r.status, 401);
    assert!(cookie_value(&r.cookies, &format!("waymark_share_{id}")).is_none());
    let r = send(
        s,
        "post",
        &path,
        &jar,
        Some(&format!("password=open-sesame-1&csrf={csrf}")),
    );
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location, path);
    let unlock_cookie = r
        .cookies
        .iter()
        .find(|c| c.starts_with("waymark_share_"))
        .unwrap()
        .clone();
    assert!(unlock_cookie.contains("HttpOnly"), "{unlock_cookie}");
    let unlock = cookie_value(&r.cookies, &format!("waymark_share_{id}")).unwrap();

    // Unlocked: the dashboard shell, and reads of that one site.
    let opened = Creds {
        cookie: Some(format!("waymark_share_{id}={unlock}")),
        share: Some(token.clone()),
        ..Creds::default()
    };
    let page = send(s, "get", &path, &opened, None);
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("<html") && !page.body.contains("type=\"password\""),
        "{}",
        page.body
    );
    // The signed-in entry page is not for a link: it sends the visitor to sign in.
    let r = send(s, "get", "/", &opened, None);
    assert_eq!(
        (r.status, r.location.as_str()),
        (303, "/login"),
        "{}",
        r.body
    );
    let r = send(s, "get", "/api/session", &opened, None);
    let v = r.json();
    assert_eq!(v["mode"], json!("shared"));
    assert_eq!(v["sites"], json!([{"domain": A, "timezone": "UTC"}]));
    assert!(v.get("email").is_none() && v.get("role").is_none(), "{v}");
    assert_eq!(
        send(s, "post", "/api/v2/query", &opened, Some(&query)).status,
        200
    );
    assert_eq!(
        send(
            s,
            "get",
            &format!("/api/sites/{A}/reports/conversions"),
            &opened,
            None
        )
        .status,
        200
    );
    let other = body_for("/api/v2/query", B);
    assert_eq!(
        send(s, "post", "/api/v2/query", &opened, Some(&other)).status,
        403
    );
    assert_eq!(send(s, "get", "/api/users", &opened, None).status, 403);
    // A cookie for another link opens nothing here.
    let flipped = if unlock.starts_with('0') { "1" } else { "0" };
    let wrong = Creds {
        cookie: Some(format!("waymark_share_{id}={flipped}{}", &unlock[1..])),
        ..opened.clone()
    };
    assert_eq!(
        send(s, "post", "/api/v2/query", &wrong, Some(&query)).status,
        401
    );

    // Ten wrong passwords from one address, then even the right one waits.
    for _ in 0..10 {
        let r = send(
            s,
            "post",
            &path,
            &jar,
            Some(&format!("password=nope-nope&csrf={csrf}")),
        );
        assert_eq!(r.status, 401);
    }
    let r = send(
        s,
        "post",
        &path,
        &jar,
        Some(&format!("password=open-sesame-1&csrf={csrf}")),
    );
    assert_eq!(r.status, 429);

    // Unprotected links open directly; deleting a link closes it.
    let open = create_link(&w, B, None);
    let t2 = open["token"].as_str().unwrap();
    let page = send(s, "get", &format!("/share/{t2}"), &Creds::default(), None);
    assert!(page.status == 200 && !page.body.contains("type=\"password\""));
    let r = send(
        s,
        "delete",
        &format!("/api/sites/{A}/shared-links/{id}"),
        &w.admin,
        None,
    );
    assert_eq!(r.status, 204);
    assert_eq!(
        send(s, "post", "/api/v2/query", &opened, Some(&query)).status,
        401
    );
    assert_eq!(send(s, "get", &path, &Creds::default(), None).status, 404);
    // The link's password is stored only as an argon2 hash.
    let mut server = w.server;
    server.stop();
    let rows = server.sql("SELECT password_hash FROM shared_links WHERE password_hash IS NOT NULL");
    assert!(rows.is_empty(), "the protected link was deleted: {rows:?}");
}

#[test]
fn cookie_writes_need_the_csrf_header_and_sites_reach_the_collector() {
    let w = world();
    let s = &w.server;
    let add = |creds: &Creds, domain: &str| {
        send(
            s,
            "post",
            "/api/sites",
            creds,
            Some(&json!({"domain": domain, "timezone": "Europe/Berlin"}).to_string()),
        )
    };
    let no_header = Creds {
        csrf: None,
        ..w.admin.clone()
    };
    let r = add(&no_header, "c.example");
    assert_eq!(r.status, 403);
    assert!(r.body.contains("X-CSRF-Token"), "{}", r.body);
    let wrong = Creds {
        csrf: Some("f".repeat(64)),
        ..w.admin.clone()
    };
    assert_eq!(add(&wrong, "c.example").status, 403);
    // Reads need no header.
    assert_eq!(send(s, "get", "/api/sites", &no_header, None).status, 200);
    let r = add(&w.admin, "c.example");
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        r.json(),
        json!({"domain": "c.example", "timezone": "Europe/Berlin"})
    );
    let r = add(&w.admin, "not a domain");
    assert_eq!(
        (r.status, r.json()["field"].as_str()),
        (400, Some("domain"))
    );
    // A bearer key needs no CSRF header.
    assert_eq!(add(&bearer(SERVER_KEY), "d.example").status, 201);

    // The collector takes events for the new site at once, and refuses them once it is gone.
    let event = |domain: &str| {
        common::post(
            s,
            &format!(r#"{{"n":"pageview","u":"https://{domain}/","d":"{domain}"}}"#),
            common::CHROME_UA,
            "203.0.113.9",
            &[],
        )
    };
    let r = event("c.example");
    assert_eq!(r.status, 202, "{}", r.body);
    assert!(r.dropped.is_none(), "{:?}", r.dropped);
    let r = send(s, "delete", "/api/sites/c.example", &w.admin, None);
    assert_eq!(r.status, 204, "{}", r.body);
    let r = send(s, "get", "/api/sites", &w.admin, None);
    assert!(!r.body.contains("c.example"), "{}", r.body);
    let r = event("c.example");
    assert!(
        r.dropped.is_some(),
        "dropped after removal: {} {:?}",
        r.status,
        r.dropped
    );
    assert_eq!(
        send(s, "delete", "/api/sites/c.example", &w.admin, None).status,
        404
    );
}

#[test]
fn demo_leaves_an_admin_who_can_sign_in() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let (ok, out, err) = waymark(&[
        "demo",
        "--data-dir",
        d,
        "--no-serve",
        "--events",
        "2000",
        "--days",
        "3",
    ]);
    assert!(ok, "{err}");
    let line = out
        .lines()
        .find(|l| l.contains("sign in at"))
        .expect(&out)
        .to_string();
    assert!(
        line.contains("/login") && line.contains("demo@waymark.local"),
        "{line}"
    );
    let password = line.rsplit(' ').next().unwrap().to_string();
    let server = Server::start(dir.path(), &[], &[]);
    let page = send(&server, "get", "/login", &Creds::default(), None);
    let csrf = cookie_value(&page.cookies, "waymark_csrf").unwrap();
    let body = format!(
        "email=demo%40waymark.local&password={}&csrf={csrf}",
        enc(&password)
    );
    let r = send(
        &server,
        "post",
        "/login",
        &Creds {
            cookie: Some(format!("waymark_csrf={csrf}")),
            ..Creds::default()
        },
        Some(&body),
    );
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location, "/sites/demo.waymark.local");
}
