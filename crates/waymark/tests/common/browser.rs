//! Headless Chromium for the tracker tests: finding the binary (a hard failure under `CI`),
//! launching it in its own process group (killed as a whole on drop), a minimal DevTools-protocol
//! client over a hand-written WebSocket (no extra dependencies), and a tiny static file server
//! that serves the tracker's test pages from another origin than the Waymark server.

use std::cell::RefCell;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// The host names the tests use; Chromium maps them all to 127.0.0.1.
pub const SHOP: &str = "shop.example";
pub const OTHER: &str = "other.example";
pub const STATS: &str = "stats.example";

/// `true` when running under CI (`CI=true`, as GitHub Actions and most CI systems set it).
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

fn is_executable(p: &Path) -> bool {
    p.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The Chromium binary: `$WAYMARK_CHROMIUM`, else `chromium` / `chromium-browser` on the PATH or
/// in /usr/bin. When it is missing the test FAILS under CI and is skipped (with a notice) outside.
pub fn chromium_or_skip(test: &str) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("WAYMARK_CHROMIUM").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        assert!(
            is_executable(&p),
            "WAYMARK_CHROMIUM={} is not an executable file (install Debian's chromium: apt-get install -y chromium)",
            p.display()
        );
        return Some(p);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin")])
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|n| dir.join(n)))
        .find(|p| is_executable(p));
    if found.is_none() {
        assert!(
            !under_ci(),
            "{test}: Chromium not found and CI is set, so this is a failure, not a skip. \
             Install it with `apt-get install -y chromium` (test.sh does) or set WAYMARK_CHROMIUM."
        );
        // Written to the real stderr: libtest captures eprintln! of passing tests.
        let _ = writeln!(
            std::io::stderr(),
            "NOTICE: skipping {test}: Chromium not found (apt-get install -y chromium, or set \
             WAYMARK_CHROMIUM). Under CI=true this would fail."
        );
    }
    found
}

/// The flags of every run: fresh profile, no background traffic, the test hosts on 127.0.0.1.
fn base_flags(profile: &Path) -> Vec<String> {
    let mut flags: Vec<String> = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1000,800",
    ]
    .map(String::from)
    .to_vec();
    flags.push(format!("--user-data-dir={}", profile.display()));
    flags.push(format!(
        "--host-resolver-rules=MAP {SHOP} 127.0.0.1, MAP {OTHER} 127.0.0.1, MAP {STATS} 127.0.0.1"
    ));
    flags
}

/// A Chromium process in its own process group. Dropping it kills the whole group (browser,
/// zygote, renderers) and waits for the browser, so no test leaves a Chromium behind.
pub struct Chromium {
    child: Option<Child>,
    pub log: PathBuf,
    pub profile: tempfile::TempDir,
}

impl Chromium {
    fn spawn(bin: &Path, flags: &[String], url: &str, stdout: Stdio) -> Chromium {
        let profile = tempfile::Builder::new()
            .prefix("waymark-chromium-")
            .tempdir()
            .expect("profile dir");
        let log = profile.path().join("chromium.log");
        let mut all = base_flags(profile.path());
        all.extend(flags.iter().cloned());
        let child = Command::new(bin)
            .args(&all)
            .arg(url)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(Stdio::from(
                std::fs::File::create(&log).expect("chromium log"),
            ))
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {}: {e}", bin.display()));
        Chromium {
            child: Some(child),
            log,
            profile,
        }
    }

    /// The tail of Chromium's stderr, for failure messages.
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// The simplest possible driver: loads `url` with `--virtual-time-budget` and returns the
    /// DOM that `--dump-dom` prints. `user_agent` None keeps Chromium's own (HeadlessChrome) UA.
    pub fn dump_dom(bin: &Path, url: &str, user_agent: Option<&str>, budget_ms: u32) -> String {
        let out = tempfile::NamedTempFile::new().expect("dump file");
        let mut flags = vec![
            format!("--virtual-time-budget={budget_ms}"),
            "--dump-dom".to_string(),
        ];
        if let Some(ua) = user_agent {
            flags.push(format!("--user-agent={ua}"));
        }
        let stdout = Stdio::from(out.reopen().expect("dump file"));
        let mut chromium = Chromium::spawn(bin, &flags, url, stdout);
        let deadline = Instant::now() + Duration::from_secs(60);
        let child = chromium.child.as_mut().expect("child");
        loop {
            match child.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                _ => panic!(
                    "chromium --dump-dom did not finish within 60 s; log:\n{}",
                    chromium.log_tail()
                ),
            }
        }
        let dom = std::fs::read_to_string(out.path()).unwrap_or_default();
        assert!(
            !dom.is_empty(),
            "chromium --dump-dom printed nothing; log:\n{}",
            chromium.log_tail()
        );
        dom
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // The group id is the browser's pid (process_group(0)); `--` then `-pgid` kills
            // every process of the group, not just the browser.
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .stderr(Stdio::null())
                .status();
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        self.kill();
    }
}

// ---- a minimal WebSocket client (RFC 6455, client side, text messages only) -------------------

struct WebSocket {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl WebSocket {
    fn connect(port: u16, path: &str) -> std::io::Result<WebSocket> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        stream.set_nodelay(true)?;
        let mut writer = stream.try_clone()?;
        // Any 16 bytes in base64 will do as the key; no Origin header, so Chromium does not
        // need --remote-allow-origins.
        write!(
            writer,
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Key: d2F5bWFyay10ZXN0LWtleQ==\r\n\
             Sec-WebSocket-Version: 13\r\n\r\n"
        )?;
        let mut reader = BufReader::new(stream);
        let mut status = String::new();
        reader.read_line(&mut status)?;
        if !status.starts_with("HTTP/1.1 101") {
            return Err(std::io::Error::other(format!(
                "websocket handshake refused: {status}"
            )));
        }
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line)? == 0 || line == "\r\n" {
                break;
            }
        }
        Ok(WebSocket { reader, writer })
    }

    fn send_frame(&mut self, opcode: u8, payload: &[u8]) -> std::io::Result<()> {
        let mut frame = vec![0x80 | opcode];
        let len = payload.len();
        if len < 126 {
            frame.push(0x80 | len as u8);
        } else if len <= u16::MAX as usize {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(len as u16).to_be_bytes());
        } else {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&(len as u64).to_be_bytes());
        }
        // Client frames must be masked; the key need not be secret here.
        let mask = [0x5a, 0x17, 0xc3, 0x8e];
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.writer.write_all(&frame)
    }

    fn send_text(&mut self, text: &str) -> std::io::Result<()> {
        self.send_frame(0x1, text.as_bytes())
    }

    /// The next complete text message (fragments joined; pings answered).
    fn recv_text(&mut self) -> std::io::Result<String> {
        let mut message = Vec::new();
        loop {
            let mut head = [0u8; 2];
            self.reader.read_exact(&mut head)?;
            let fin = head[0] & 0x80 != 0;
            let opcode = head[0] & 0x0f;
            let masked = head[1] & 0x80 != 0;
            let len = match head[1] & 0x7f {
                126 => {
                    let mut b = [0u8; 2];
                    self.reader.read_exact(&mut b)?;
                    u16::from_be_bytes(b) as usize
                }
                127 => {
                    let mut b = [0u8; 8];
                    self.reader.read_exact(&mut b)?;
                    u64::from_be_bytes(b) as usize
                }
                n => n as usize,
            };
            let mut mask = [0u8; 4];
            if masked {
                self.reader.read_exact(&mut mask)?;
            }
            let mut payload = vec![0u8; len];
            self.reader.read_exact(&mut payload)?;
            if masked {
                payload
                    .iter_mut()
                    .enumerate()
                    .for_each(|(i, b)| *b ^= mask[i % 4]);
            }
            match opcode {
                0x0..=0x2 => {
                    message.extend_from_slice(&payload);
                    if fin {
                        return String::from_utf8(message).map_err(std::io::Error::other);
                    }
                }
                0x8 => return Err(std::io::Error::other("websocket closed by chromium")),
                0x9 => self.send_frame(0xA, &payload)?,
                _ => {} // pong or reserved: ignore
            }
        }
    }
}

/// A DevTools-protocol connection to the browser; pages are flattened sessions on it.
pub struct Cdp {
    ws: WebSocket,
    next_id: u64,
}

impl Cdp {
    /// Sends a command (to the browser, or to a page session) and waits for its result; events
    /// arriving in between are not needed by the tests and are skipped.
    pub fn call(
        &mut self,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> Result<Value, String> {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        self.ws
            .send_text(&msg.to_string())
            .map_err(|e| format!("{method}: send failed: {e}"))?;
        loop {
            let text = self
                .ws
                .recv_text()
                .map_err(|e| format!("{method}: no answer from chromium: {e}"))?;
            let reply: Value = serde_json::from_str(&text)
                .map_err(|e| format!("{method}: bad JSON {e}: {text}"))?;
            if reply["id"].as_u64() == Some(id) {
                if let Some(err) = reply.get("error") {
                    return Err(format!("{method}: {err}"));
                }
                return Ok(reply.get("result").cloned().unwrap_or(Value::Null));
            }
        }
    }
}

/// Records, in the page, what the tracker sent and what the server answered: `window.__sent` is
/// a list of `{n, u, status}` in send order (requests reach the server over parallel connections,
/// so the store's timestamps cannot tell the send order).
const SEND_RECORDER: &str = r#"(function () {
  var f = window.fetch; window.__sent = [];
  window.fetch = function (url, opts) {
    var rec = {};
    try { var b = JSON.parse(opts.body); rec = {n: b.n, u: b.u, to: String(url)}; } catch (e) {}
    window.__sent.push(rec);
    var p = f.apply(this, arguments);
    p.then(function (r) { rec.status = r.status; }, function (e) { rec.status = 'error ' + e; });
    return p;
  };
})()"#;

/// A Chromium driven over the DevTools protocol (`--remote-debugging-port`).
pub struct Browser {
    cdp: Rc<RefCell<Cdp>>,
    pub chromium: Chromium,
}

impl Browser {
    /// Starts Chromium with a debugging port and connects to it. `user_agent` replaces the
    /// HeadlessChrome UA; `--disable-blink-features=AutomationControlled` keeps
    /// `navigator.webdriver` false although the browser is remote-controlled.
    pub fn launch(bin: &Path, user_agent: &str) -> Browser {
        let flags = vec![
            "--remote-debugging-port=0".to_string(),
            "--disable-blink-features=AutomationControlled".to_string(),
            format!("--user-agent={user_agent}"),
        ];
        let chromium = Chromium::spawn(bin, &flags, "about:blank", Stdio::null());
        let active = chromium.profile.path().join("DevToolsActivePort");
        let deadline = Instant::now() + Duration::from_secs(30);
        let (port, path) = loop {
            let text = std::fs::read_to_string(&active).unwrap_or_default();
            let mut lines = text.lines();
            if let (Some(port), Some(path)) = (lines.next(), lines.next()) {
                if let Ok(port) = port.trim().parse::<u16>() {
                    break (port, path.trim().to_string());
                }
            }
            assert!(
                Instant::now() < deadline,
                "chromium did not open its debugging port within 30 s; log:\n{}",
                chromium.log_tail()
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        let ws = WebSocket::connect(port, &path)
            .unwrap_or_else(|e| panic!("devtools websocket: {e}; log:\n{}", chromium.log_tail()));
        Browser {
            cdp: Rc::new(RefCell::new(Cdp { ws, next_id: 0 })),
            chromium,
        }
    }

    pub fn call(&self, method: &str, params: Value) -> Value {
        self.cdp
            .borrow_mut()
            .call(None, method, params)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// The tab Chromium started with.
    pub fn first_page(&self) -> Page {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let targets = self.call("Target.getTargets", json!({}));
            let id = targets["targetInfos"]
                .as_array()
                .and_then(|t| t.iter().find(|t| t["type"] == "page"))
                .and_then(|t| t["targetId"].as_str())
                .map(str::to_string);
            match id {
                Some(id) => return self.attach(&id),
                None if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
                None => panic!("chromium has no page target: {targets}"),
            }
        }
    }

    /// Opens a tab (`background`: without showing it) and returns its target id.
    pub fn open(&self, url: &str, background: bool) -> String {
        let r = self.call(
            "Target.createTarget",
            json!({"url": url, "background": background}),
        );
        r["targetId"].as_str().expect("targetId").to_string()
    }

    /// Brings a tab to the front: it becomes visible, the previous one hidden.
    pub fn show(&self, target_id: &str) {
        self.call("Target.activateTarget", json!({"targetId": target_id}));
    }

    pub fn close(&self, target_id: &str) {
        self.call("Target.closeTarget", json!({"targetId": target_id}));
    }

    /// Attaches to a tab and prepares it like drive.py does: 1000x800 viewport, emulated focus
    /// (a CDP-driven page otherwise reports `document.hasFocus() == false`, and engaged time
    /// needs focus) and the send recorder.
    pub fn attach(&self, target_id: &str) -> Page {
        let r = self.call(
            "Target.attachToTarget",
            json!({"targetId": target_id, "flatten": true}),
        );
        let page = Page {
            cdp: self.cdp.clone(),
            session: r["sessionId"].as_str().expect("sessionId").to_string(),
            target_id: target_id.to_string(),
        };
        page.call("Page.enable", json!({}));
        page.call("Runtime.enable", json!({}));
        page.set_focus(true);
        page.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": 1000, "height": 800, "deviceScaleFactor": 1, "mobile": false}),
        );
        page.add_init_script(SEND_RECORDER);
        page
    }
}

/// One tab, as a flattened DevTools session.
pub struct Page {
    cdp: Rc<RefCell<Cdp>>,
    session: String,
    pub target_id: String,
}

impl Page {
    pub fn try_call(&self, method: &str, params: Value) -> Result<Value, String> {
        self.cdp
            .borrow_mut()
            .call(Some(&self.session), method, params)
    }

    pub fn call(&self, method: &str, params: Value) -> Value {
        self.try_call(method, params)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Evaluates an expression (awaiting promises, as a user gesture) and returns its value.
    pub fn try_js(&self, expression: &str) -> Result<Value, String> {
        let r = self.try_call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true, "awaitPromise": true, "userGesture": true}),
        )?;
        if let Some(ex) = r.get("exceptionDetails") {
            return Err(format!("js error in {expression:?}: {ex}"));
        }
        Ok(r["result"].get("value").cloned().unwrap_or(Value::Null))
    }

    pub fn js(&self, expression: &str) -> Value {
        self.try_js(expression).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Focus emulation on or off; turning it off fires a real `blur`.
    pub fn set_focus(&self, on: bool) {
        self.call("Emulation.setFocusEmulationEnabled", json!({"enabled": on}));
    }

    /// Runs `source` before every document's own scripts; returns its identifier.
    pub fn add_init_script(&self, source: &str) -> String {
        let r = self.call(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({"source": source}),
        );
        r["identifier"].as_str().expect("identifier").to_string()
    }

    pub fn remove_init_script(&self, identifier: &str) {
        self.call(
            "Page.removeScriptToEvaluateOnNewDocument",
            json!({"identifier": identifier}),
        );
    }

    /// Navigates and waits until the new document has loaded and the deferred tracker ran.
    pub fn goto(&self, url: &str, referrer: Option<&str>) {
        let mut params = json!({"url": url});
        if let Some(r) = referrer {
            params["referrer"] = json!(r);
        }
        let r = self.call("Page.navigate", params);
        assert!(r.get("errorText").is_none(), "navigating to {url}: {r}");
        self.settle();
    }

    /// Waits until the current document is complete (after a navigation started by the page).
    pub fn settle(&self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        std::thread::sleep(Duration::from_millis(200));
        while Instant::now() < deadline {
            if self.try_js("document.readyState").ok() == Some(json!("complete")) {
                std::thread::sleep(Duration::from_millis(200));
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("page did not finish loading within 15 s");
    }

    /// Waits until the page is at a URL starting with `prefix` (after a navigation the page
    /// started itself, e.g. a form submission or a link click), then until it has loaded.
    pub fn wait_url(&self, prefix: &str) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok(v) = self.try_js("location.href") {
                if v.as_str().is_some_and(|u| u.starts_with(prefix)) {
                    break;
                }
            }
            assert!(
                Instant::now() < deadline,
                "the page did not navigate to {prefix}…"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        self.settle();
    }

    /// A real mouse click (press + release) in the middle of the element: `button` "left" or
    /// "middle", `ctrl` holds Control (opens links in a background tab).
    pub fn click(&self, selector: &str, button: &str, ctrl: bool) {
        let sel = serde_json::to_string(selector).expect("selector");
        let at = self.js(&format!(
            "(function(){{var el=document.querySelector({sel});el.scrollIntoView({{block:'center'}});\
             var r=el.getBoundingClientRect();return [r.left+r.width/2,r.top+r.height/2]}})()"
        ));
        let (x, y) = (at[0].as_f64().expect("x"), at[1].as_f64().expect("y"));
        std::thread::sleep(Duration::from_millis(100));
        let buttons = if button == "middle" { 4 } else { 1 };
        for (kind, pressed) in [("mousePressed", buttons), ("mouseReleased", 0)] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({"type": kind, "x": x, "y": y, "button": button, "buttons": pressed,
                       "clickCount": 1, "modifiers": if ctrl { 2 } else { 0 }}),
            );
        }
    }

    /// What the tracker sent from the current document: `["<n> <u> <status>", ...]`.
    pub fn sent(&self) -> Vec<String> {
        let v = self.js("(window.__sent||[]).map(function(s){return s.n+' '+s.u+' '+s.status})");
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    }
}

// ---- a tiny static file server for the test pages ---------------------------------------------

/// Serves `root` for `shop.example` (and `127.0.0.1`, for the localhost rule), a directory as
/// its `index.html` and `/x` as `x.html`. HTML files go through `rewrites` (literal replacements,
/// used to point the pages' script tags at the real Waymark server). Any other host (the
/// "outbound" site) gets a small page without the tracker. One thread per connection.
pub struct StaticSite {
    pub port: u16,
    stop: Arc<AtomicBool>,
}

impl StaticSite {
    pub fn start(root: &Path, rewrites: Vec<(String, String)>) -> StaticSite {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind static site");
        let port = listener.local_addr().expect("addr").port();
        let stop = Arc::new(AtomicBool::new(false));
        let (root, rewrites, flag) = (root.to_path_buf(), Arc::new(rewrites), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (root, rewrites) = (root.clone(), rewrites.clone());
                std::thread::spawn(move || {
                    let _ = serve_one(conn, &root, &rewrites);
                });
            }
        });
        StaticSite { port, stop }
    }
}

impl Drop for StaticSite {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port)); // wakes the accept loop
    }
}

fn serve_one(conn: TcpStream, root: &Path, rewrites: &[(String, String)]) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut host = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("host") {
                host = v.trim().to_string();
            }
        }
    }
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
    let host = host.split(':').next().unwrap_or("").to_ascii_lowercase();
    let (status, ctype, body) = if method != "GET" && method != "HEAD" {
        (405, "text/plain", b"method not allowed".to_vec())
    } else if host != SHOP && host != "127.0.0.1" {
        let page = "<!doctype html><title>Elsewhere</title><h1>Another site</h1>";
        (200, "text/html; charset=utf-8", page.as_bytes().to_vec())
    } else {
        file_response(root, target, rewrites)
    };
    let mut out = conn;
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        _ => "Error",
    };
    write!(
        out,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    if method != "HEAD" {
        out.write_all(&body)?;
    }
    out.flush()?;
    let _ = out.shutdown(Shutdown::Write);
    Ok(())
}

fn file_response(
    root: &Path,
    target: &str,
    rewrites: &[(String, String)],
) -> (u16, &'static str, Vec<u8>) {
    let path = target.split(['?', '#']).next().unwrap_or("/");
    if path.split('/').any(|seg| seg == "..") {
        return (403, "text/plain", b"forbidden".to_vec());
    }
    let mut full = root.join(path.trim_start_matches('/'));
    if full.is_dir() {
        full = full.join("index.html");
    }
    if !full.is_file() {
        let html = PathBuf::from(format!("{}.html", full.display()));
        if html.is_file() {
            full = html; // /pricing -> pricing.html
        }
    }
    let Ok(bytes) = std::fs::read(&full) else {
        return (404, "text/plain", b"not found".to_vec());
    };
    let ext = full
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "html" => {
            let mut text = String::from_utf8_lossy(&bytes).into_owned();
            for (from, to) in rewrites {
                text = text.replace(from.as_str(), to);
            }
            (200, "text/html; charset=utf-8", text.into_bytes())
        }
        "pdf" => (200, "application/pdf", bytes),
        "csv" => (200, "text/csv", bytes),
        _ => (200, "application/octet-stream", bytes),
    }
}

// ---- dashboard helpers: viewport, waiting for the page, screenshots ---------------------------

impl Page {
    /// Emulates a viewport (`mobile` also turns on touch-style viewport handling).
    pub fn set_viewport(&self, width: u32, height: u32, mobile: bool) {
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}),
        );
    }

    /// Polls `expression` until it yields something other than null, false, "" or an error;
    /// returns that value. Panics with `what` after `secs` seconds.
    pub fn wait_for(&self, expression: &str, what: &str, secs: u64) -> Value {
        let deadline = Instant::now() + Duration::from_secs(secs);
        let mut last: String;
        loop {
            match self.try_js(expression) {
                Ok(v) if !(v.is_null() || v == json!(false) || v == json!("")) => return v,
                Ok(v) => last = v.to_string(),
                Err(e) => last = e,
            }
            assert!(
                Instant::now() < deadline,
                "waited {secs} s for {what}; last: {last}; page: {}",
                self.try_js("location.href + ' ' + document.body.innerText.slice(0, 1500)")
                    .unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Saves a PNG screenshot of the viewport (`full`: the whole page) to `path`.
    pub fn screenshot(&self, path: &Path, full: bool) {
        let r = self.call(
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": full}),
        );
        let data = r["data"].as_str().expect("screenshot data");
        let png = base64_decode(data).expect("screenshot base64");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("artifact dir");
        }
        std::fs::write(path, png).expect("write screenshot");
    }
}

/// Standard base64 (with padding), as DevTools sends binary data.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let bytes: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for chunk in bytes.chunks(4) {
        let pad = chunk.iter().rev().take_while(|b| **b == b'=').count();
        let mut n = 0u32;
        for (i, b) in chunk.iter().enumerate() {
            let v = if *b == b'=' { 0 } else { value(*b)? };
            n |= v << (18 - 6 * i);
        }
        let got = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&got[..3usize.saturating_sub(pad).min(chunk.len() - 1)]);
    }
    Some(out)
}

impl Page {
    /// A real key press (down + up) on the focused element: "Tab", "Enter", "Escape", " ".
    pub fn press_key(&self, key: &str, shift: bool) {
        let (code, vk, text) = match key {
            "Tab" => ("Tab", 9, ""),
            "Enter" => ("Enter", 13, "\r"),
            "Escape" => ("Escape", 27, ""),
            " " => ("Space", 32, " "),
            other => panic!("press_key: no mapping for {other:?}"),
        };
        let modifiers = if shift { 8 } else { 0 };
        self.call(
            "Input.dispatchKeyEvent",
            json!({"type": "keyDown", "key": key, "code": code, "windowsVirtualKeyCode": vk,
                   "text": text, "modifiers": modifiers}),
        );
        self.call(
            "Input.dispatchKeyEvent",
            json!({"type": "keyUp", "key": key, "code": code, "windowsVirtualKeyCode": vk,
                   "modifiers": modifiers}),
        );
    }
}
