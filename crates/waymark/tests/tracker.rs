//! The browser tracker (`tracker/dist`, as embedded and served by the real server) in a real
//! headless Chromium, against the real `waymark serve` and its store: the checks of
//! `tracker/test/drive.py` (which used a fake collector), asserted on what the store holds.
//!
//! - The pages are `tracker/test/pages/`, served by a small static server in this process for
//!   `http://shop.example:<port>` (Chromium maps the test hosts to 127.0.0.1). Their script tags
//!   are rewritten on the fly to load the tracker from the Waymark server at
//!   `http://stats.example:<waymark port>`, so every event is a cross-origin POST, as in production.
//! - Chromium runs with a desktop Chrome user agent, so stored rows read "Chrome"/"Desktop". Its
//!   own headless UA ("HeadlessChrome") counts by default and is dropped with `--drop-headless`
//!   (the smoke tests check both).
//! - Progress is followed through the server's `/metrics` counters and, in the page, a wrapper
//!   around `fetch` that records what the tracker sent and the status the server answered.
//! - Chromium is missing: the tests fail under `CI=true`, and are skipped with a notice otherwise.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::browser::{chromium_or_skip, Browser, Chromium, Page, StaticSite, OTHER, SHOP, STATS};
use common::*;
use serde_json::json;

/// The user agent of the browser: a desktop Chrome on Linux, as a real visitor would send.
const UA: &str = CHROME_UA;
const ROLLUP: &str = "rollup.example";

// ---- the rig: the real server + the static site with the test pages --------------------------

struct Rig {
    server: Server,
    /// `http://shop.example:<static port>`: where the pages are loaded from.
    base: String,
    /// `http://stats.example:<waymark port>`: where the tracker is loaded from and posts to.
    stats: String,
    site: StaticSite,
    _dir: tempfile::TempDir,
}

fn pages_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tracker/test/pages")
}

impl Rig {
    fn start(sites: &[&str]) -> Rig {
        Rig::start_with(sites, &[])
    }

    /// As [`Rig::start`], with extra `waymark serve` flags.
    fn start_with(sites: &[&str], flags: &[&str]) -> Rig {
        let dir = tempfile::tempdir().expect("temp dir");
        let server = Server::start(dir.path(), sites, flags);
        let stats = format!("http://{STATS}:{}", server.port);
        // The pages load "/js/script….js" from their own origin and one posts to a relative
        // data-api; point both at the real server instead.
        let rewrites = vec![
            (r#"src="/js/"#.to_string(), format!(r#"src="{stats}/js/"#)),
            (
                r#"data-api="/api/event""#.to_string(),
                format!(r#"data-api="{stats}/api/event""#),
            ),
        ];
        let site = StaticSite::start(&pages_dir(), rewrites);
        let base = format!("http://{SHOP}:{}", site.port);
        Rig {
            server,
            base,
            stats,
            site,
            _dir: dir,
        }
    }
}

// ---- following the server while the browser runs ----------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Counters {
    accepted: u64,
    bot: u64,
    unknown_site: u64,
    invalid: u64,
}

fn counters(server: &Server) -> Counters {
    let text = agent()
        .get(&server.url("/metrics"))
        .call()
        .expect("GET /metrics")
        .into_body()
        .read_to_string()
        .expect("metrics body");
    let num = |prefix: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(prefix))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {prefix:?} in /metrics:\n{text}"))
    };
    Counters {
        accepted: num("waymark_events_accepted_total "),
        bot: num("waymark_events_dropped_total{reason=\"bot\"} "),
        unknown_site: num("waymark_events_dropped_total{reason=\"unknown_site\"} "),
        invalid: num("waymark_requests_invalid_total "),
    }
}

/// Waits (up to 10 s) until the counters satisfy `ok`.
fn wait_for(server: &Server, what: &str, ok: impl Fn(&Counters) -> bool) -> Counters {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let c = counters(server);
        if ok(&c) {
            return c;
        }
        assert!(
            Instant::now() < deadline,
            "waited 10 s for {what}; server counters: {c:?}; server log tail:\n{}",
            log_tail(server)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until the server has accepted at least `n` events in all.
fn wait_accepted(server: &Server, n: u64, what: &str) -> Counters {
    wait_for(server, &format!("{n} accepted events ({what})"), |c| {
        c.accepted >= n
    })
}

/// Waits until nothing new has arrived for 700 ms and returns the counters then.
fn quiet(server: &Server) -> Counters {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut last = counters(server);
    let mut since = Instant::now();
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        let c = counters(server);
        if c != last {
            (last, since) = (c, Instant::now());
        } else if since.elapsed() >= Duration::from_millis(700) {
            break;
        }
    }
    last
}

/// After `action`, nothing reaches the server for `secs`.
fn nothing_sent(server: &Server, what: &str, secs: f64, action: impl FnOnce()) {
    let before = quiet(server);
    action();
    std::thread::sleep(Duration::from_secs_f64(secs));
    assert_eq!(
        counters(server),
        before,
        "{what}: the server received something"
    );
}

fn log_tail(server: &Server) -> String {
    let log = server.server_log();
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// Waits until the page has recorded `n` sends (in this document) and all of them are answered.
fn wait_sent(page: &Page, n: usize, what: &str) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let sent = page.sent();
        if sent.len() >= n && !sent.iter().any(|s| s.ends_with(" undefined")) {
            return sent;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: waited 10 s for {n} answered sends; got {sent:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn sleep(secs: f64) {
    std::thread::sleep(Duration::from_secs_f64(secs));
}

// ---- reading the store after the server stopped ------------------------------------------------

/// `select <cols> from events <rest>`, each cell as text (NULL as "NULL", lists as "[a, b]").
/// The columns travel as one '|'-joined cell because `parse_table` drops empty cells.
fn select(server: &Server, cols: &[&str], rest: &str) -> Vec<Vec<String>> {
    let cell = cols
        .iter()
        .map(|c| match *c {
            // Rendered like `waymark sql` renders lists (a cast would quote some elements).
            "prop_keys" | "prop_values" => format!("'[' || array_to_string({c}, ', ') || ']'"),
            _ => format!("coalesce(cast(({c}) as varchar), 'NULL')"),
        })
        .collect::<Vec<_>>()
        .join(" || '|' || ");
    server
        .sql(&format!("select {cell} as r from events {rest}"))
        .into_iter()
        .map(|row| {
            let cell = row.first().cloned().unwrap_or_default();
            cell.split('|').map(str::to_string).collect()
        })
        .collect()
}

/// One number from `select <expr> from events <rest>`.
fn count(server: &Server, expr: &str, rest: &str) -> u64 {
    let rows = select(server, &[expr], rest);
    rows[0][0]
        .parse()
        .unwrap_or_else(|_| panic!("not a number: {rows:?}"))
}

/// Every stored event, one line each, for failure messages.
fn dump(server: &Server) -> String {
    select(
        server,
        &[
            "site_id",
            "name",
            "pathname",
            "hostname",
            "referrer_domain",
            "source",
            "channel",
            "utm_campaign",
            "utm_content",
            "prop_keys",
            "prop_values",
            "revenue_amount",
            "revenue_currency",
            "scroll_depth",
            "engagement_ms",
            "interactive",
        ],
        "order by timestamp",
    )
    .iter()
    .map(|r| r.join(" | "))
    .collect::<Vec<_>>()
    .join("\n")
}

/// The rows as owned strings, sorted (the queries' rows are sorted too).
fn strings(rows: &[&[&str]]) -> Vec<Vec<String>> {
    let mut rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    rows.sort();
    rows
}

// ---- the tests -----------------------------------------------------------------------------------

/// The simplest driver (`--virtual-time-budget` + `--dump-dom`, as the acceptance check uses):
/// the page's pageview and both pre-load queued calls are stored — first with Chromium's own
/// headless UA (counted by default), then with a desktop UA, whose rows are checked field by field.
#[test]
fn smoke_dump_dom_stores_pageview_and_queued_calls() {
    let Some(chromium) = chromium_or_skip("tracker smoke test") else {
        return;
    };
    let mut rig = Rig::start(&[SHOP]);
    let url = format!("{}/?utm_source=newsletter&utm_campaign=headless", rig.base);
    let dom = Chromium::dump_dom(&chromium, &url, None, 5000);
    assert!(
        dom.contains("<h1>Shop</h1>"),
        "the page did not render: {dom}"
    );
    wait_accepted(&rig.server, 3, "headless pageview + 2 queued calls");
    let c = quiet(&rig.server);
    assert_eq!(c.bot, 0, "a headless browser counts by default: {c:?}");
    let headless = c.accepted;

    let url = format!(
        "{}/?utm_source=newsletter&utm_campaign=smoke&utm_content=dump-dom",
        rig.base
    );
    let dom = Chromium::dump_dom(&chromium, &url, Some(UA), 5000);
    assert!(
        dom.contains(&format!(r#"src="{}/js/script.js""#, rig.stats)),
        "script tag not rewritten: {dom}"
    );
    wait_accepted(&rig.server, headless + 3, "pageview + 2 queued calls");
    let c = quiet(&rig.server);
    assert_eq!((c.invalid, c.unknown_site), (0, 0), "{c:?}");
    drop(rig.site);

    rig.server.stop();
    let mut rows = select(
        &rig.server,
        &[
            "name",
            "pathname",
            "hostname",
            "utm_source",
            "utm_campaign",
            "utm_content",
            "prop_keys",
            "prop_values",
            "browser",
            "device",
            "interactive",
        ],
        "where name <> 'engagement' and utm_campaign = 'smoke'",
    );
    rows.sort();
    let visit = ["/", SHOP, "newsletter", "smoke", "dump-dom"];
    let ua = ["Chrome", "Desktop", "true"];
    let expected = [
        ("Queued", "[via]", "[plausible]"),
        ("Queued", "[via]", "[waymark]"),
        ("pageview", "[]", "[]"),
    ]
    .map(|(name, keys, values)| [&[name][..], &visit, &[keys, values], &ua].concat());
    let expected: Vec<&[&str]> = expected.iter().map(|r| r.as_slice()).collect();
    assert_eq!(rows, strings(&expected), "stored:\n{}", dump(&rig.server));
    assert_eq!(
        count(
            &rig.server,
            "count(*)",
            "where utm_campaign = 'headless' and browser = 'HeadlessChrome' and name <> 'engagement'"
        ),
        3,
        "stored:\n{}",
        dump(&rig.server)
    );
}

/// With `--drop-headless`, Chromium's own headless UA is dropped as a bot and nothing is stored.
#[test]
fn drop_headless_setting_drops_headless_browsers() {
    let Some(chromium) = chromium_or_skip("tracker drop-headless test") else {
        return;
    };
    let mut rig = Rig::start_with(&[SHOP], &["--drop-headless"]);
    let url = format!("{}/?utm_campaign=headless", rig.base);
    Chromium::dump_dom(&chromium, &url, None, 5000);
    let c = wait_for(&rig.server, "the headless UA's events dropped", |c| {
        c.bot >= 3
    });
    assert_eq!(c.accepted, 0, "{c:?}");
    rig.server.stop();
    assert_eq!(count(&rig.server, "count(*)", ""), 0);
}

/// index.html (core script: pageview, queue, custom events, SPA, engagement), then
/// features.html and thanks.html (full script: downloads, outbound links, tagged elements, forms).
#[test]
fn pageviews_custom_events_spa_engagement_and_auto_captured_events() {
    let Some(chromium) = chromium_or_skip("tracker core test") else {
        return;
    };
    let mut rig = Rig::start(&[SHOP]);
    let (base, stats) = (rig.base.clone(), rig.stats.clone());
    let server = &rig.server;
    let browser = Browser::launch(&chromium, UA);
    let page = browser.first_page();
    assert_eq!(
        page.js("navigator.webdriver"),
        json!(false),
        "AutomationControlled is not off"
    );

    // -- pageview, referrer, UTM, queue
    let start = format!(
        "{base}/?utm_source=newsletter&utm_medium=email&utm_campaign=spring&utm_content=hero&utm_term=shoes"
    );
    page.goto(&start, Some("http://news.example/article/1"));
    wait_accepted(server, 3, "pageview + 2 queued calls");
    let sent = wait_sent(&page, 3, "index.html load");
    assert_eq!(
        sent,
        [
            format!("pageview {start} 202"),
            format!("Queued {start} 202"),
            format!("Queued {start} 202")
        ],
        "the pageview goes first, the queued calls after it, and the server answers 202"
    );
    assert_eq!(page.js("__sent[0].to"), json!(format!("{stats}/api/event")));
    assert_eq!(
        page.js(
            "document.cookie === '' && localStorage.length === 0 && sessionStorage.length === 0"
        ),
        json!(true),
        "the tracker must not write cookies or storage"
    );

    // -- custom events: props + revenue (callback after the real server answered), Plausible API
    let cb = page.js(
        "new Promise(function(ok){waymark('Purchase',{props:{plan:'pro',seats:3,trial:false},\
         revenue:{amount:9.99,currency:'EUR'},callback:ok})})",
    );
    assert_eq!(
        cb,
        json!({"status": 202}),
        "callback after the request completed (CORS ok)"
    );
    page.js("plausible('Signup')");
    page.js("waymark('Video Played', {interactive: false})");
    wait_accepted(server, 6, "Purchase, Signup, Video Played");

    // -- SPA navigation
    let n = wait_sent(&page, 6, "custom events").len();
    page.js("history.pushState({}, '', '/pricing')");
    wait_accepted(server, 8, "engagement of / + pageview of /pricing");
    let sent = wait_sent(&page, n + 2, "pushState");
    assert_eq!(
        sent[n..],
        [
            format!("engagement {start} 202"),
            format!("pageview {base}/pricing 202")
        ],
        "the previous page's engagement is sent before the SPA pageview"
    );
    nothing_sent(
        server,
        "replaceState/pushState within the same path",
        1.0,
        || {
            page.js("history.replaceState({}, '', '/pricing?tab=yearly')");
            page.js("history.pushState({}, '', '/pricing?tab=monthly')");
        },
    );
    nothing_sent(server, "popstate within the same path", 1.0, || {
        page.js("history.back()");
    });
    let c = counters(server);
    page.js("history.back()"); // to the start url: engagement of /pricing + pageview of /
    wait_accepted(server, c.accepted + 2, "popstate to another path");
    page.js("history.pushState({}, '', '/pricing')");
    // The engaged time of this /pricing view runs from here: no waiting until the tab switch
    // other than the 2 s below (quiet() would add its 700 ms).
    let c = wait_accepted(server, c.accepted + 4, "pushState to /pricing again");

    // -- engagement: time while visible and focused, scroll depth
    assert_eq!(
        page.js("document.visibilityState === 'visible' && document.hasFocus()"),
        json!(true),
        "the page must be visible and focused"
    );
    page.js("scrollTo(0, (document.documentElement.scrollHeight - innerHeight) / 2)");
    sleep(2.0);
    // Focus emulation keeps a page visible, so it goes off for the tab switch: that fires a
    // real `blur` (the clock pauses), then the switch fires `visibilitychange` (hidden).
    page.set_focus(false);
    let other = browser.open("about:blank", false);
    browser.show(&other);
    wait_accepted(server, c.accepted + 1, "engagement on hiding the tab");
    assert_eq!(page.js("document.visibilityState"), json!("hidden"));
    sleep(2.0); // hidden: does not count
    browser.show(&page.target_id);
    browser.close(&other);
    sleep(2.0); // visible again but without focus: does not count
    assert_eq!(
        page.js("document.visibilityState + ' ' + document.hasFocus()"),
        json!("visible false")
    );
    assert_eq!(
        counters(server).accepted,
        c.accepted + 1,
        "showing the page again sends nothing"
    );
    page.set_focus(true); // the clock runs again
    page.js("scrollTo(0, document.documentElement.scrollHeight)");
    sleep(6.0);
    let features = format!("{base}/features.html");
    page.goto(&features, None); // leaving: visibilitychange (hidden) + pagehide, one engagement
    wait_accepted(
        server,
        c.accepted + 3,
        "engagement on leaving + pageview of features.html",
    );

    // -- features.html: downloads, outbound links, tagged elements (full script)
    let c = quiet(server);
    page.click("#download", "middle", false);
    wait_accepted(
        server,
        c.accepted + 1,
        "File Download (middle click on .pdf)",
    );
    page.click("#download-upper", "left", true);
    wait_accepted(server, c.accepted + 2, "File Download (ctrl-click on .CSV)");
    nothing_sent(server, "ctrl-click on a same-site .html link", 1.0, || {
        page.click("#not-download", "left", true)
    });
    page.click("#outbound", "left", true);
    wait_accepted(server, c.accepted + 3, "Outbound Link: Click");
    page.click("#tag-class", "left", false);
    wait_accepted(server, c.accepted + 4, "class-tagged button");
    page.click("#tag-attr-inner", "left", false);
    wait_accepted(server, c.accepted + 5, "attribute-tagged button");
    page.click("#tag-plausible", "left", false);
    wait_accepted(
        server,
        c.accepted + 6,
        "Plausible class convention on a link",
    );
    let c = quiet(server);
    let sent = page.sent();
    assert_eq!(
        sent.len(),
        7,
        "pageview + 6 events, no pageview for the hash link: {sent:?}"
    );
    assert!(sent.iter().all(|s| s.ends_with(" 202")), "{sent:?}");

    // -- forms: a tagged form sends its event only; an untagged one sends Form: Submission
    page.click("#tagged-submit", "left", false);
    page.wait_url(&format!("{base}/thanks.html"));
    wait_accepted(
        server,
        c.accepted + 3,
        "Trial Started + engagement + pageview of thanks.html",
    );
    page.goto(&features, None);
    let c = quiet(server);
    page.click("#submit", "left", false);
    let thanks = format!("{base}/thanks.html?topic=demo");
    page.wait_url(&thanks);
    assert_eq!(page.js("location.href"), json!(thanks));
    wait_accepted(
        server,
        c.accepted + 3,
        "Form: Submission + engagement + pageview of thanks.html",
    );

    // -- thanks.html: a same-tab outbound click survives the navigation, which is not delayed
    let c = quiet(server);
    page.click("#outbound", "left", false);
    page.wait_url(&format!("http://{OTHER}:"));
    assert_eq!(
        page.js("document.title"),
        json!("Elsewhere"),
        "the navigation was not blocked"
    );
    wait_accepted(
        server,
        c.accepted + 2,
        "Outbound Link: Click + engagement of thanks.html",
    );
    let c = quiet(server);
    assert_eq!(
        (c.bot, c.unknown_site, c.invalid),
        (0, 0, 0),
        "nothing refused or dropped: {c:?}"
    );
    drop(page);
    drop(browser);
    drop(rig.site);

    // ---- what the store holds
    rig.server.stop();
    let server = &rig.server;
    let all = dump(server);
    let port = base.rsplit(':').next().unwrap();

    // Pageviews: path, referrer, UTM, source and channel. The SPA pageviews keep
    // document.referrer (Chromium trims it to the origin); features.html was opened directly and
    // thanks.html is a same-site referral, so both are Direct.
    let rows = select(
        server,
        &[
            "pathname",
            "hostname",
            "referrer_domain",
            "source",
            "channel",
            "utm_source",
            "utm_medium",
            "utm_campaign",
            "utm_content",
            "utm_term",
            "interactive",
        ],
        "where name = 'pageview' order by timestamp",
    );
    let news = "news.example";
    let tagged = [
        "/",
        SHOP,
        news,
        news,
        "Email",
        "newsletter",
        "email",
        "spring",
        "hero",
        "shoes",
        "true",
    ];
    let row = |path: &str, referrer: &str, channel: &str| -> Vec<String> {
        [
            path, SHOP, referrer, referrer, channel, "", "", "", "", "", "true",
        ]
        .map(String::from)
        .to_vec()
    };
    let expected = vec![
        tagged.map(String::from).to_vec(),
        row("/pricing", news, "Referral"),
        tagged.map(String::from).to_vec(),
        row("/pricing", news, "Referral"),
        row("/features.html", "", "Direct"),
        row("/thanks.html", "", "Direct"),
        row("/features.html", "", "Direct"),
        row("/thanks.html", "", "Direct"),
    ];
    assert_eq!(rows, expected, "pageviews; all events:\n{all}");

    // Custom events with props and revenue, the Plausible-style call, the queue.
    let mut rows = select(
        server,
        &[
            "name",
            "pathname",
            "prop_keys",
            "prop_values",
            "revenue_amount",
            "revenue_currency",
            "interactive",
            "utm_campaign",
        ],
        "where name not in ('pageview', 'engagement') and pathname = '/'",
    );
    rows.sort();
    assert_eq!(
        rows,
        strings(&[
            &[
                "Purchase",
                "/",
                "[plan, seats, trial]",
                "[pro, 3, false]",
                "9.99",
                "EUR",
                "true",
                "spring"
            ],
            &[
                "Queued",
                "/",
                "[via]",
                "[plausible]",
                "NULL",
                "",
                "true",
                "spring"
            ],
            &[
                "Queued",
                "/",
                "[via]",
                "[waymark]",
                "NULL",
                "",
                "true",
                "spring"
            ],
            &["Signup", "/", "[]", "[]", "NULL", "", "true", "spring"],
            &[
                "Video Played",
                "/",
                "[]",
                "[]",
                "NULL",
                "",
                "false",
                "spring"
            ],
        ]),
        "custom events; all events:\n{all}"
    );

    // Engagement: / twice (before each pushState), /pricing three times: the first short visit
    // (~16 %), the half-way scroll held ~2 s before the tab switch, and the bottom held 6 s.
    let eng = |path: &str| -> Vec<(u64, u64)> {
        select(
            server,
            &["scroll_depth", "engagement_ms", "interactive"],
            &format!("where name = 'engagement' and pathname = '{path}' order by timestamp"),
        )
        .iter()
        .map(|r| {
            assert_eq!(r[2], "false", "engagement is not interactive: {r:?}");
            (r[0].parse().expect("sd"), r[1].parse().expect("e"))
        })
        .collect()
    };
    let home = eng("/");
    assert_eq!(home.len(), 2, "engagement of / : {home:?}\n{all}");
    assert!(home.iter().all(|(sd, _)| (1..=30).contains(sd)), "{home:?}");
    let pricing = eng("/pricing");
    assert_eq!(
        pricing.len(),
        3,
        "engagement of /pricing: {pricing:?}\n{all}"
    );
    assert!(
        pricing
            .iter()
            .any(|&(sd, e)| (50..=65).contains(&sd) && (1800..=3500).contains(&e)),
        "half-way scroll held ~2 s before the tab switch: sd 50-65, e 1800-3500: {pricing:?}"
    );
    assert!(
        pricing.iter().any(|&(sd, e)| sd == 100 && (5000..=7500).contains(&e)),
        "scrolled to the bottom and held 6 s: sd 100, 5 s <= e <= 7.5 s (hidden and unfocused time \
         excluded): {pricing:?}"
    );
    for path in ["/features.html", "/thanks.html"] {
        assert_eq!(
            eng(path).len(),
            2,
            "one engagement per visit of {path}:\n{all}"
        );
    }

    // Auto-captured events on features.html and thanks.html.
    let mut rows = select(
        server,
        &[
            "name",
            "pathname",
            "prop_keys",
            "prop_values",
            "revenue_amount",
            "revenue_currency",
        ],
        "where name not in ('pageview', 'engagement') and pathname <> '/'",
    );
    rows.sort();
    let (pdf, csv) = (
        format!("[{base}/files/report.pdf]"),
        format!("[{base}/files/DATA.CSV]"),
    );
    let after_form = format!("[http://{OTHER}:{port}/after-form]");
    let pricing_click = format!("[pro, {base}/features.html#pricing]");
    let f = "/features.html";
    assert_eq!(
        rows,
        strings(&[
            &["Add to cart", f, "[sku]", "[42]", "19.9", "EUR"],
            &["File Download", f, "[url]", &csv, "NULL", ""],
            &["File Download", f, "[url]", &pdf, "NULL", ""],
            &[
                "Form: Submission",
                f,
                "[path]",
                "[/features.html]",
                "NULL",
                ""
            ],
            &["Newsletter Signup", f, "[position]", "[footer]", "NULL", ""],
            &[
                "Outbound Link: Click",
                f,
                "[url]",
                "[http://other.example/landing?ref=shop]",
                "NULL",
                ""
            ],
            &[
                "Outbound Link: Click",
                "/thanks.html",
                "[url]",
                &after_form,
                "NULL",
                ""
            ],
            &[
                "Pricing Click",
                f,
                "[plan, url]",
                &pricing_click,
                "NULL",
                ""
            ],
            &["Trial Started", f, "[]", "[]", "NULL", ""],
        ]),
        "auto-captured events; all events:\n{all}"
    );

    // One browser, one visitor, one session, across SPA and full navigations.
    assert_eq!(count(server, "count(distinct session_id)", ""), 1, "{all}");
    assert_eq!(
        count(
            server,
            "count(*)",
            "where browser <> 'Chrome' or device <> 'Desktop'"
        ),
        0
    );
}

/// legacy.html (file-name features, hash routing, rollup domains), manual.html, admin/
/// (exclusions), the ignore rules (localhost, opt-out, automation), double.html, background tab.
#[test]
fn legacy_snippet_manual_mode_exclusions_and_ignore_rules() {
    let Some(chromium) = chromium_or_skip("tracker legacy/ignore test") else {
        return;
    };
    let mut rig = Rig::start(&[SHOP, ROLLUP]);
    let base = rig.base.clone();
    let server = &rig.server;
    let browser = Browser::launch(&chromium, UA);
    let page = browser.first_page();

    // -- legacy Plausible snippet: script.hash.outbound-links.js, two domains, data-api
    page.goto(&format!("{base}/legacy.html#/home"), None);
    wait_accepted(server, 2, "hash-mode pageview, once per site");
    assert_eq!(
        wait_sent(&page, 1, "legacy.html"),
        [format!("pageview {base}/legacy.html#/home 202")]
    );
    page.js("location.hash = '#/cart'");
    wait_accepted(
        server,
        6,
        "engagement of #/home + pageview of #/cart, per site",
    );
    nothing_sent(server, "the same hash again", 1.0, || {
        page.js("location.hash = '#/cart'");
    });
    page.click("#outbound", "left", true);
    wait_accepted(
        server,
        8,
        "Outbound Link: Click from the file-name feature, per site",
    );

    // -- data-manual: only the page's own (redacted) pageviews
    page.goto(&format!("{base}/manual.html"), None);
    let c = quiet(server);
    assert_eq!(
        wait_sent(&page, 1, "manual.html"),
        [format!("pageview {base}/user/:id 202")]
    );
    nothing_sent(server, "pushState in manual mode", 1.0, || {
        page.js("history.pushState({}, '', '/manual/2')");
    });
    page.js("waymark('pageview', {u: location.origin + '/user/:id/2'})");
    wait_accepted(
        server,
        c.accepted + 2,
        "manual pageview + the previous page's engagement",
    );

    // -- data-exclude="/admin/**, /private*": nothing at all while excluded
    page.goto(&format!("{base}/admin/"), None);
    let c = quiet(server);
    let cb = page.js("new Promise(function(ok){waymark('Signup',{callback:ok})})");
    assert_eq!(cb, json!({"ignored": "excluded"}));
    nothing_sent(server, "pushState to an excluded path", 1.0, || {
        page.js("history.pushState({}, '', '/private-area')");
    });
    assert_eq!(counters(server), c, "excluded page sent something");
    assert_eq!(page.sent(), Vec::<String>::new());
    page.js("history.pushState({}, '', '/catalog')");
    wait_accepted(server, c.accepted + 1, "pageview of /catalog");
    assert_eq!(
        wait_sent(&page, 1, "/catalog"),
        [format!("pageview {base}/catalog 202")]
    );

    // -- ignore rules: 127.0.0.1, opt-out in localStorage, automation
    let port = rig.site.port;
    page.goto(
        &format!("http://127.0.0.1:{port}/?utm_content=ignored-localhost"),
        None,
    );
    let cb = page.js("new Promise(function(ok){waymark('Signup',{callback:ok})})");
    assert_eq!(cb, json!({"ignored": "localhost"}));
    sleep(0.5);
    assert_eq!(
        page.sent(),
        Vec::<String>::new(),
        "127.0.0.1 sends nothing, not even the queue"
    );
    for key in ["waymark_ignore", "plausible_ignore"] {
        page.goto(&format!("{base}/?utm_content=before-{key}"), None);
        page.js(&format!("localStorage.setItem('{key}', 'true')"));
        page.goto(&format!("{base}/?utm_content=ignored-{key}"), None);
        let cb = page.js("new Promise(function(ok){waymark('Signup',{callback:ok})})");
        assert_eq!(cb, json!({"ignored": "opt-out"}), "localStorage.{key}");
        sleep(0.5);
        assert_eq!(
            page.sent(),
            Vec::<String>::new(),
            "localStorage.{key} = 'true' opts out"
        );
        page.js("localStorage.clear()");
    }
    for (name, source) in [
        (
            "webdriver",
            "Object.defineProperty(Navigator.prototype,'webdriver',{get:function(){return true}})",
        ),
        ("cypress", "window.Cypress = {}"),
    ] {
        let script = page.add_init_script(source);
        page.goto(&format!("{base}/?utm_content=ignored-{name}"), None);
        let cb = page.js("new Promise(function(ok){waymark('Signup',{callback:ok})})");
        assert_eq!(cb, json!({"ignored": "automation"}), "{name}");
        sleep(0.5);
        assert_eq!(
            page.sent(),
            Vec::<String>::new(),
            "automation ({name}) is ignored"
        );
        let c = quiet(server);
        page.goto(&format!("{base}/automation.html"), None);
        wait_accepted(
            server,
            c.accepted + 1,
            "data-allow-automation still sends its pageview",
        );
        page.remove_init_script(&script);
    }

    // -- the script included twice: one pageview
    page.goto(&format!("{base}/double.html"), None);
    quiet(server);
    assert_eq!(page.sent().len(), 1, "double.html: {:?}", page.sent());

    // -- a background tab counts when first shown
    let url = format!("{base}/?utm_content=background");
    let mut tab = String::new();
    nothing_sent(server, "a background tab that was never shown", 1.5, || {
        tab = browser.open(&url, true);
    });
    let c = counters(server);
    browser.show(&tab);
    wait_accepted(
        server,
        c.accepted + 3,
        "pageview + queued calls when first shown",
    );
    quiet(server);
    browser.show(&page.target_id); // hides the background tab: its engagement (checked below)
    let c = quiet(server);
    assert_eq!(
        (c.bot, c.unknown_site, c.invalid),
        (0, 0, 0),
        "nothing refused or dropped: {c:?}"
    );
    browser.close(&tab);
    drop(page);
    drop(browser);
    drop(rig.site);

    // ---- what the store holds
    rig.server.stop();
    let server = &rig.server;
    let all = dump(server);

    // Legacy: hash routes as paths, h:1, the outbound link, each stored for both sites.
    let mut rows = select(
        server,
        &["site_id", "name", "pathname", "prop_values"],
        "where pathname like '/legacy.html%'",
    );
    rows.sort();
    let mut expected = Vec::new();
    for site in [ROLLUP, SHOP] {
        for (name, path, props) in [
            (
                "Outbound Link: Click",
                "/legacy.html#/cart",
                "[https://other.example/docs]",
            ),
            ("engagement", "/legacy.html#/cart", "[]"),
            ("engagement", "/legacy.html#/home", "[]"),
            ("pageview", "/legacy.html#/cart", "[]"),
            ("pageview", "/legacy.html#/home", "[]"),
        ] {
            expected.push(vec![
                site.to_string(),
                name.into(),
                path.into(),
                props.into(),
            ]);
        }
    }
    expected.sort();
    assert_eq!(rows, expected, "legacy snippet; all events:\n{all}");
    assert_eq!(
        count(
            server,
            "count(*)",
            &format!("where site_id = '{ROLLUP}' and pathname not like '/legacy.html%'")
        ),
        0,
        "only the legacy page names the rollup site"
    );

    // Manual mode: only the redacted URLs, never /manual.html or /manual/2.
    let mut rows = select(
        server,
        &["name", "pathname"],
        "where pathname like '/user/%' or pathname like '/manual%'",
    );
    rows.sort();
    assert_eq!(
        rows,
        strings(&[
            &["engagement", "/user/:id"],
            &["engagement", "/user/:id/2"],
            &["pageview", "/user/:id"],
            &["pageview", "/user/:id/2"],
        ]),
        "manual mode; all events:\n{all}"
    );

    // Exclusions and ignore rules: nothing stored; /catalog after the excluded pages is.
    assert_eq!(
        count(
            server,
            "count(*)",
            "where pathname like '/admin%' or pathname like '/private%'"
        ),
        0,
        "excluded paths:\n{all}"
    );
    let mut rows = select(server, &["name"], "where pathname = '/catalog'");
    rows.sort();
    assert_eq!(rows, strings(&[&["engagement"], &["pageview"]]), "{all}");
    assert_eq!(
        count(
            server,
            "count(*)",
            "where utm_content like 'ignored-%' or hostname = '127.0.0.1'"
        ),
        0,
        "ignored pages (localhost, opt-out, automation) stored something:\n{all}"
    );
    for key in ["waymark_ignore", "plausible_ignore"] {
        let n = count(
            server,
            "count(*)",
            &format!("where name = 'pageview' and utm_content = 'before-{key}'"),
        );
        assert_eq!(n, 1, "the page before opting out is tracked:\n{all}");
    }
    assert_eq!(
        count(
            server,
            "count(*)",
            "where name = 'pageview' and pathname = '/automation.html'"
        ),
        2
    );
    assert_eq!(
        count(
            server,
            "count(*)",
            "where name = 'pageview' and pathname = '/double.html'"
        ),
        1
    );

    // The background tab: pageview and queued calls once shown, then its engagement.
    let mut rows = select(server, &["name"], "where utm_content = 'background'");
    rows.sort();
    assert_eq!(
        rows,
        strings(&[&["Queued"], &["Queued"], &["engagement"], &["pageview"]]),
        "background tab; all events:\n{all}"
    );
}
