//! Test support: runs the real `waymark` binary on a temporary data directory and talks to it
//! over HTTP, the way users and trackers do.

#![allow(dead_code)]

/// Headless Chromium, a DevTools-protocol client and a static site (the tracker tests).
pub mod browser;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const CHROME_UA: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";
pub const IPHONE_UA: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_waymark")
}

/// Runs a CLI command to completion; returns (success, stdout, stderr).
pub fn waymark(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(bin())
        .args(args)
        .env_remove("WAYMARK_DATA_DIR")
        .output()
        .expect("run waymark");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A running server process.
pub struct Server {
    pub dir: PathBuf,
    pub port: u16,
    pub log: PathBuf,
    child: Option<Child>,
    extra: Vec<String>,
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

impl Server {
    /// Adds `sites` to a fresh data dir in `dir` and starts the server with `extra` flags.
    pub fn start(dir: &Path, sites: &[&str], extra: &[&str]) -> Server {
        for s in sites {
            let (ok, _, err) = waymark(&[
                "site",
                "add",
                s,
                "--timezone",
                "UTC",
                "--data-dir",
                dir.to_str().unwrap(),
            ]);
            assert!(ok, "site add failed: {err}");
        }
        let mut server = Server {
            dir: dir.to_path_buf(),
            port: free_port(),
            log: dir.join("server.log"),
            child: None,
            extra: extra.iter().map(|s| s.to_string()).collect(),
        };
        server.spawn();
        server
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log file");
        let child = Command::new(bin())
            .arg("serve")
            .arg("--data-dir")
            .arg(&self.dir)
            .arg("--listen")
            .arg(format!("127.0.0.1:{}", self.port))
            .args(&self.extra)
            .env("WAYMARK_LOG", "debug")
            .stdout(Stdio::from(log.try_clone().expect("log clone")))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("spawn server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(r) = agent().get(&self.url("/health")).call() {
                if r.status().as_u16() == 200 {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "server did not become healthy; log:\n{}",
            std::fs::read_to_string(&self.log).unwrap_or_default()
        );
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    /// `kill -9`, then start again on the same data directory.
    pub fn crash_and_restart(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        self.spawn();
    }

    /// Graceful stop (SIGTERM), waiting for exit.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(c.id().to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(60);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
            panic!("server did not stop within 60 s of SIGTERM");
        }
    }

    /// Runs SQL on the (stopped) server's data directory and returns the rows (tab-free cells).
    pub fn sql(&self, query: &str) -> Vec<Vec<String>> {
        let (ok, out, err) = waymark(&["sql", "--data-dir", self.dir.to_str().unwrap(), query]);
        assert!(ok, "sql failed: {err}");
        parse_table(&out)
    }

    pub fn server_log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Parses `waymark sql` output back into cells (columns are separated by two or more spaces).
pub fn parse_table(out: &str) -> Vec<Vec<String>> {
    out.lines()
        .skip(2)
        .filter(|l| !l.starts_with('(') || !l.ends_with(')') || !l.contains("row"))
        .map(|l| {
            l.split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect()
        })
        .collect()
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// What a POST answered.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub dropped: Option<String>,
    pub body: String,
}

/// Posts a body to `/api/event` with a user agent and forwarded IP.
pub fn post(server: &Server, body: &str, ua: &str, ip: &str, extra: &[(&str, &str)]) -> Reply {
    let mut req = agent()
        .post(&server.url("/api/event"))
        .header("Content-Type", "text/plain")
        .header("User-Agent", ua)
        .header("X-Forwarded-For", ip);
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    let resp = req.send(body.as_bytes()).expect("request");
    let status = resp.status().as_u16();
    let dropped = resp
        .headers()
        .get("x-waymark-dropped")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = resp.into_body().read_to_string().unwrap_or_default();
    Reply {
        status,
        dropped,
        body,
    }
}

/// An agent that shows redirects instead of following them.
pub fn no_redirects() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// Adds a dashboard user with `waymark user add --password-stdin` (an admin when `admin`),
/// asserting that it succeeds without echoing the password.
pub fn add_user(dir: &str, email: &str, password: &str, admin: bool) {
    use std::io::Write;
    let mut args = vec!["user", "add", email, "--password-stdin", "--data-dir", dir];
    if admin {
        args.push("--admin");
    }
    let mut child = Command::new(bin())
        .args(&args)
        .env_remove("WAYMARK_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains(password), "password echoed: {stdout}");
}

/// The value of cookie `name` among a response's `Set-Cookie` headers.
pub fn cookie_value(set_cookies: &[String], name: &str) -> Option<String> {
    set_cookies.iter().find_map(|c| {
        let (k, v) = c.split(';').next()?.split_once('=')?;
        (k.trim() == name).then(|| v.trim().to_string())
    })
}

/// Percent-encodes all but ASCII letters, digits and `-._` (form bodies, URL paths).
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Posts a Stats API query (`POST /api/v2/query`), with `key` as the bearer key when given;
/// returns the status and the JSON body (the text as a JSON string when it is not JSON).
pub fn stats_query(
    server: &Server,
    body: &serde_json::Value,
    key: Option<&str>,
) -> (u16, serde_json::Value) {
    let mut r = agent()
        .post(&server.url("/api/v2/query"))
        .header("Content-Type", "application/json");
    if let Some(k) = key {
        r = r.header("Authorization", &format!("Bearer {k}"));
    }
    let resp = r.send(body.to_string().as_bytes()).expect("request");
    let status = resp.status().as_u16();
    let text = resp.into_body().read_to_string().unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
    )
}

/// `GET path` with `key` as the bearer key; the status and the JSON body (`null` when the
/// body is not JSON).
pub fn get_json(server: &Server, path: &str, key: &str) -> (u16, serde_json::Value) {
    let resp = agent()
        .get(&server.url(path))
        .header("Authorization", &format!("Bearer {key}"))
        .call()
        .expect("request");
    let status = resp.status().as_u16();
    let text = resp.into_body().read_to_string().unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}

/// `[(dimensions..., metrics...)]` of a Stats API response, flattened for comparison.
pub fn result_rows(v: &serde_json::Value) -> Vec<serde_json::Value> {
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let mut cells = r["dimensions"].as_array().unwrap().clone();
            cells.extend(r["metrics"].as_array().unwrap().iter().cloned());
            serde_json::Value::Array(cells)
        })
        .collect()
}

/// Asserts that no file under `dir` (there must be some) contains any of `secrets` in plain
/// text; `what` names them in the failure.
pub fn assert_stored_nowhere(dir: &Path, secrets: &[&str], what: &str) {
    let mut stack = vec![dir.to_path_buf()];
    let mut files = 0;
    while let Some(p) = stack.pop() {
        for entry in std::fs::read_dir(&p).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            files += 1;
            let bytes = std::fs::read(&path).unwrap();
            for s in secrets {
                assert!(
                    !bytes.windows(s.len()).any(|w| w == s.as_bytes()),
                    "{what} found in {}",
                    path.display()
                );
            }
        }
    }
    assert!(files > 0, "no files under {}", dir.display());
}

/// Posts each Stats API query of `cases` with bearer `key`, asserting a 400 that names
/// `field` and whose message contains `needle`.
pub fn assert_stats_refusals(
    server: &Server,
    key: &str,
    cases: Vec<(serde_json::Value, &str, &str)>,
) {
    for (body, field, needle) in cases {
        let (status, v) = stats_query(server, &body, Some(key));
        assert_eq!(status, 400, "{body} -> {v}");
        assert_eq!(v["field"].as_str(), Some(field), "{body} -> {v}");
        let msg = v["error"].as_str().unwrap_or_default();
        assert!(msg.contains(needle), "{body}: {msg:?} lacks {needle:?}");
    }
}

/// Posts an event with the bearer `key` (so it may carry a `timestamp`), asserting that it is
/// accepted and kept.
pub fn post_accepted(server: &Server, body: &serde_json::Value, ua: &str, ip: &str, key: &str) {
    let r = post(
        server,
        &body.to_string(),
        ua,
        ip,
        &[("Authorization", &format!("Bearer {key}"))],
    );
    assert_eq!(r.status, 202, "{body}: {}", r.body);
    assert_eq!(r.dropped, None, "{body}");
}
