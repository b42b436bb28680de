//! The browser dashboard end to end: demo data, a real server and real headless Chromium. Signs
//! in through `/login`, compares the rendered numbers with the Stats API, filters by clicking,
//! reloads the filtered URL, checks the funnel's weakest step, realtime, settings, phone width and
//! shared links, and saves screenshots under `$CARGO_TARGET_DIR/test-artifacts/dashboard/`.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::browser::{chromium_or_skip, Browser, Page};
use common::{agent, bin, enc, Server, CHROME_UA};
use serde_json::{json, Value};

const SITE: &str = "demo.waymark.local";
const KEY: &str = "dashboard-test-key";
const EMAIL: &str = "owner@example.com";
const PASSWORD: &str = "correct horse battery";

/// Where screenshots go: `$CARGO_TARGET_DIR` (or the target dir holding the binary).
fn artifacts() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(bin())
                .ancestors()
                .nth(2)
                .expect("target dir")
                .to_path_buf()
        });
    let dir = target.join("test-artifacts").join("dashboard");
    std::fs::create_dir_all(&dir).expect("artifact dir");
    dir
}

/// Demo data and one admin user in a fresh data directory (the store is closed meanwhile).
fn demo_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let out = Command::new(bin())
        .args(["demo", "--data-dir", d, "--no-serve", "--events", "50000"])
        .output()
        .expect("waymark demo");
    assert!(
        out.status.success(),
        "demo failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(bin())
        .args(["user", "add", EMAIL, "--admin", "--data-dir", d])
        .env("WAYMARK_PASSWORD", PASSWORD)
        .output()
        .expect("waymark user add");
    assert!(
        out.status.success(),
        "user add failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

/// `POST /api/v2/query` with the server-wide key.
fn stats(server: &Server, body: Value) -> Value {
    let resp = agent()
        .post(&server.url("/api/v2/query"))
        .header("Authorization", &format!("Bearer {KEY}"))
        .header("Content-Type", "application/json")
        .send(body.to_string().as_bytes())
        .unwrap();
    let status = resp.status().as_u16();
    let text = resp.into_body().read_to_string().unwrap();
    assert_eq!(status, 200, "stats query {body}: {text}");
    serde_json::from_str(&text).unwrap()
}

/// A report of the conversions/funnels API (`path` with its query).
fn report(server: &Server, path: &str) -> Value {
    let resp = agent()
        .get(&server.url(path))
        .header("Authorization", &format!("Bearer {KEY}"))
        .call()
        .unwrap();
    let status = resp.status().as_u16();
    let text = resp.into_body().read_to_string().unwrap();
    assert_eq!(status, 200, "report {path}: {text}");
    serde_json::from_str(&text).unwrap()
}

/// Unique visitors of a conversion in a report.
fn report_visitors(r: &Value, name: &str) -> u64 {
    r["conversions"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["name"] == json!(name)))
        .and_then(|c| c["visitors"].as_u64())
        .unwrap_or_else(|| panic!("no {name} in {r}"))
}

const TOP: [&str; 6] = [
    "visitors",
    "visits",
    "pageviews",
    "views_per_visit",
    "bounce_rate",
    "visit_duration",
];

/// The top-stat tiles' raw values, once they have loaded.
fn tiles(page: &Page) -> Vec<f64> {
    page.wait_for(
        "(function(){var t=document.querySelector('[data-metric=visitors]');\
         return t && t.dataset.value !== '' && !document.querySelector('.stats[aria-busy=true]')})()",
        "the top stats",
        30,
    );
    TOP.iter()
        .map(|m| {
            let v = page.js(&format!(
                "document.querySelector('[data-metric={m}]').dataset.value"
            ));
            v.as_str()
                .and_then(|s| s.parse::<f64>().ok())
                .unwrap_or_else(|| panic!("tile {m} has no number: {v}"))
        })
        .collect()
}

fn api_top(server: &Server, filters: Value) -> Vec<f64> {
    let r = stats(
        server,
        json!({"site_id": SITE, "metrics": TOP, "date_range": "30d", "filters": filters}),
    );
    r["results"][0]["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

fn assert_same(shown: &[f64], api: &[f64], what: &str) {
    for ((m, a), b) in TOP.iter().zip(shown).zip(api) {
        assert!(
            (a - b).abs() < 1e-6,
            "{what}: {m} shows {a}, the API says {b}"
        );
    }
}

fn sign_in(page: &Page, server: &Server, next: &str) {
    page.goto(&server.url(next), None);
    // The shell finds no session and sends the browser to the sign-in page.
    page.wait_url(&server.url("/login"));
    page.js(&format!(
        "document.querySelector('input[name=email]').value={EMAIL:?};\
         document.querySelector('input[name=password]').value={PASSWORD:?};\
         document.querySelector('input[name=password]').form.submit();true"
    ));
    page.wait_for(
        "location.pathname.startsWith('/sites/') || location.pathname === '/'",
        "the page after sign-in",
        20,
    );
    page.settle();
}

#[test]
fn dashboard_in_a_real_browser() {
    let Some(chromium) = chromium_or_skip("dashboard_in_a_real_browser") else {
        return;
    };
    let dir = demo_dir();
    let server = Server::start(dir.path(), &[], &["--api-keys", KEY]);
    let shots = artifacts();
    println!("dashboard screenshots: {}", shots.display());

    // The shell and its assets are public and cacheable; the data is not.
    let shell = agent()
        .get(&server.url(&format!("/sites/{SITE}")))
        .call()
        .unwrap();
    assert_eq!(shell.status().as_u16(), 200);
    let html = shell.into_body().read_to_string().unwrap();
    let app_js = html
        .split("src=\"")
        .filter_map(|s| s.split('"').next())
        .find(|s| s.starts_with("/assets/app."))
        .expect("app.js in the shell")
        .to_string();
    let asset = agent().get(&server.url(&app_js)).call().unwrap();
    assert_eq!(asset.status().as_u16(), 200);
    assert!(asset
        .headers()
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("immutable")));
    let missing = agent().get(&server.url("/assets/nope.js")).call().unwrap();
    assert_eq!(missing.status().as_u16(), 404);

    let browser = Browser::launch(&chromium, CHROME_UA);
    let page = browser.first_page();
    let overview = format!("/sites/{SITE}");
    sign_in(&page, &server, &overview);
    if !page
        .js("location.pathname")
        .as_str()
        .unwrap_or("")
        .starts_with("/sites/")
    {
        page.goto(&server.url(&overview), None);
    }

    // Overview: the tiles equal the Stats API for the same range (the default, 30d).
    let started = std::time::Instant::now();
    page.goto(&server.url(&overview), None);
    let shown = tiles(&page);
    let api = api_top(&server, json!([]));
    assert_same(&shown, &api, "overview");
    assert!(shown[0] > 100.0, "the demo has visitors: {shown:?}");
    page.wait_for(
        "document.querySelectorAll('[data-panel=sources] button.row').length > 0 && \
         document.querySelectorAll('[data-panel=conversions] button.row').length > 0 && \
         document.querySelector('.plot canvas') !== null",
        "panels with rows and the chart",
        30,
    );
    // Informational only (no timing assertions): how long the first full render took.
    println!(
        "overview: the last API answer arrived {} ms after navigation started; {} API calls (test wall clock {} ms)",
        page.js("Math.round(Math.max(...performance.getEntriesByType('resource').filter(e => e.name.includes('/api/')).map(e => e.responseEnd)))"),
        page.js("performance.getEntriesByType('resource').filter(e => e.name.includes('/api/')).length"),
        started.elapsed().as_millis()
    );
    let conversions = page.js("document.querySelector('[data-panel=conversions]').innerText");
    let text = conversions.as_str().unwrap();
    assert!(
        text.contains("Purchase") && text.contains("Add to Cart"),
        "{text}"
    );
    page.screenshot(&shots.join("overview.png"), true);

    // The conversions tile: unique visitors with the macro conversion (Purchase), as the Stats
    // API counts them; clicking it charts conversions over time.
    let purchases = stats(
        &server,
        json!({"site_id": SITE, "metrics": ["visitors"], "date_range": "30d",
               "filters": [["is", "event:goal", ["Purchase"]]]}),
    )["results"][0]["metrics"][0]
        .as_f64()
        .unwrap();
    let tile = page.wait_for(
        "document.querySelector('[data-metric=conversions]') && document.querySelector('[data-metric=conversions]').dataset.value",
        "the conversions tile",
        30,
    );
    assert_eq!(
        tile.as_str().and_then(|v| v.parse::<f64>().ok()),
        Some(purchases)
    );
    page.click("[data-metric=conversions]", "left", false);
    page.wait_for(
        "location.search.includes('metric=conversions') && document.querySelector('.chart-card h2').innerText.startsWith('Converting visitors') \
         && document.querySelector('.plot canvas') !== null",
        "the conversions chart",
        30,
    );

    // Clicking a row filters: the URL changes, the numbers change and equal the filtered API.
    let channel =
        page.js("document.querySelector('[data-panel=sources] button.row').dataset.value");
    let channel = channel.as_str().expect("a channel").to_string();
    page.click("[data-panel=sources] button.row", "left", false);
    page.wait_for(
        "location.search.includes('f=is%2Cchannel%2C')",
        "the filter in the URL",
        10,
    );
    let filtered_api = api_top(&server, json!([["is", "visit:channel", [channel]]]));
    assert!(filtered_api[0] < api[0], "{filtered_api:?} vs {api:?}");
    page.wait_for(
        &format!(
            "document.querySelector('[data-metric=visitors]').dataset.value === '{}'",
            filtered_api[0]
        ),
        "the filtered numbers",
        30,
    );
    assert_same(&tiles(&page), &filtered_api, "filtered overview");
    let chip =
        page.js("document.querySelector('.chip') && document.querySelector('.chip').innerText");
    assert!(
        chip.as_str().is_some_and(|c| c.contains(&channel)),
        "chip: {chip}"
    );
    page.screenshot(&shots.join("filtered.png"), true);

    // Reloading the filtered URL keeps the filter.
    let url = page.js("location.href").as_str().unwrap().to_string();
    page.goto(&url, None);
    assert_same(&tiles(&page), &filtered_api, "reloaded filtered overview");
    assert_eq!(page.js("location.href").as_str(), Some(url.as_str()));
    // Removing the chip goes back to the whole site.
    page.click(".chip .x", "left", false);
    page.wait_for(
        &format!(
            "!location.search.includes('f=') && document.querySelector('[data-metric=visitors]').dataset.value === '{}'",
            api[0]
        ),
        "the unfiltered numbers after removing the chip",
        30,
    );

    // Keyboard: the rows are real buttons; Tab moves between them with a visible focus ring
    // and Enter filters. The panels load on their own: wait for the page rows first.
    page.wait_for(
        "document.querySelectorAll('[data-panel=pages] button.row').length > 1",
        "the page rows after removing the chip",
        30,
    );
    page.js("document.querySelectorAll('[data-panel=pages] button.row')[0].focus()");
    page.press_key("Tab", false);
    let focused = page.js(
        "(function(){var a=document.activeElement;return [a===document.querySelectorAll('[data-panel=pages] button.row')[1],\
         getComputedStyle(a).outlineStyle, a.dataset.value]})()",
    );
    assert_eq!(
        focused[0],
        json!(true),
        "Tab did not reach the next row: {focused}"
    );
    assert_ne!(focused[1], json!("none"), "no focus ring: {focused}");
    page.press_key("Enter", false);
    page.wait_for(
        "location.search.includes('f=is%2Cpage%2C')",
        "a page filter from the keyboard",
        10,
    );
    let page_filter = focused[2].as_str().unwrap().to_string();
    let by_page = api_top(&server, json!([["is", "event:page", [page_filter]]]));
    page.wait_for(
        &format!(
            "document.querySelector('[data-metric=visitors]').dataset.value === '{}'",
            by_page[0]
        ),
        "the numbers filtered by page",
        30,
    );
    // The conversions panel honours the page filter too (the visits that include that page),
    // with no "not filtered" notice: its Purchase row equals the filtered report.
    let by_page_report = report(
        &server,
        &format!(
            "/api/sites/{SITE}/reports/conversions?range=30d&filter={}",
            enc(&format!("event:page={page_filter}"))
        ),
    );
    let purchases_on_page = report_visitors(&by_page_report, "Purchase");
    page.wait_for(
        &format!(
            "(function(){{var b=document.querySelector('[data-panel=conversions] button.row[data-value=Purchase]');\
             return !!b && b.getAttribute('aria-label').includes(': {purchases_on_page} unique')}})()"
        ),
        "the conversions panel filtered by page",
        30,
    );
    assert_eq!(
        page.js("document.querySelector('[data-panel=conversions] .note') === null"),
        json!(true),
        "an ignored-filter notice is shown"
    );

    // Comparison with the previous period: 7 days, with the change shown on each tile.
    page.goto(
        &server.url(&format!("{overview}?range=7d&compare=previous")),
        None,
    );
    let week = tiles(&page);
    let api_week = stats(
        &server,
        json!({"site_id": SITE, "metrics": TOP, "date_range": "7d"}),
    );
    assert_eq!(
        week[0],
        api_week["results"][0]["metrics"][0].as_f64().unwrap(),
        "7d visitors"
    );
    page.wait_for(
        "document.querySelectorAll('.tile .tile-change').length >= 8 && document.querySelectorAll('.u-series').length >= 3 \
         && document.querySelectorAll('[data-panel=conversions] button.row').length > 0",
        "changes on the tiles and a comparison line",
        30,
    );
    // The conversions panel compares too: each row's change in visitors and in rate.
    page.wait_for(
        "document.querySelectorAll('[data-panel=conversions] [data-change=rate]').length > 0 && \
         document.querySelectorAll('[data-panel=conversions] [data-change=visitors] .change').length > 0",
        "the conversions' changes against the previous period",
        30,
    );
    page.screenshot(&shots.join("compare.png"), true);

    // A custom range that runs past today: the page shows the period the server compares with
    // (the Stats API's, by insight's rule), and a change from nothing as the API does (+100%).
    // The demo's 90 days all lie inside the range, so the period before it is empty.
    let today = stats(
        &server,
        json!({"site_id": SITE, "metrics": ["visitors"], "date_range": "day"}),
    )["query"]["date_range"][0]
        .as_str()
        .unwrap()[..10]
        .to_string();
    let today = chrono::NaiveDate::parse_from_str(&today, "%Y-%m-%d").unwrap();
    let (from, to) = (
        (today - chrono::Duration::days(100)).to_string(),
        (today + chrono::Duration::days(5)).to_string(),
    );
    let api = stats(
        &server,
        json!({"site_id": SITE, "metrics": ["visitors"], "date_range": [from, to],
               "include": {"comparisons": {"mode": "previous_period"}}}),
    );
    let compared: Vec<String> = api["meta"]["comparison_date_range"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap()[..10].to_string())
        .collect();
    assert_eq!(
        api["results"][0]["comparison"]["change"],
        json!([100]),
        "{api}"
    );
    page.goto(
        &server.url(&format!(
            "{overview}?range=custom&from={from}&to={to}&compare=previous"
        )),
        None,
    );
    // (Waits for the values themselves: the previous view's stay until the new ones load.)
    page.wait_for(
        &format!(
            "(function(){{var c=document.querySelector('.controls .compared');\
             return !!c && c.dataset.from + ',' + c.dataset.to === '{}'}})()",
            compared.join(",")
        ),
        "the server's compared period in the controls",
        30,
    );
    page.wait_for(
        "(function(){var c=document.querySelector('[data-metric=visitors] .change');\
         return !!c && c.textContent === '▲ 100%'})()",
        "the visitors' change from nothing: +100%, as in the API",
        30,
    );

    // Funnels: the demo "Checkout" funnel with its weakest step highlighted.
    page.goto(&server.url(&format!("/sites/{SITE}/funnels")), None);
    let weakest = page.wait_for(
        "document.querySelector('.step.weakest') && document.querySelector('.step.weakest').dataset.label",
        "the weakest step",
        30,
    );
    assert_eq!(weakest, json!("Add to Cart"));
    assert_eq!(
        page.js("document.querySelector('[data-weakest]').dataset.weakest"),
        json!("Product View → Add to Cart")
    );
    assert_eq!(
        page.js(
            "document.querySelector('#funnel-h').closest('.card').querySelector('select').value"
        ),
        json!("Checkout")
    );
    assert_eq!(
        page.js("document.querySelectorAll('.funnel .step').length"),
        json!(5)
    );
    page.screenshot(&shots.join("funnel.png"), true);
    // A breakdown by channel, kept in the URL.
    page.js("(function(){var s=document.querySelectorAll('#funnel-h ~ .control-row select, .card-head select')[1];\
             s.value='channel';s.dispatchEvent(new Event('change',{bubbles:true}));return true})()");
    page.wait_for(
        "location.search.includes('by=channel') && document.querySelectorAll('table.fb tbody tr').length > 1",
        "the funnel breakdown by channel",
        30,
    );
    page.screenshot(&shots.join("funnel-by-channel.png"), true);
    // Compared with the previous period: each step's rate change, in points.
    page.goto(
        &server.url(&format!("/sites/{SITE}/funnels?compare=previous")),
        None,
    );
    page.wait_for(
        "document.querySelectorAll('.funnel .drop .change').length >= 1 && document.querySelector('.funnel-summary .change')",
        "the funnel's changes against the previous period",
        30,
    );

    // Dark mode follows prefers-color-scheme.
    page.call(
        "Emulation.setEmulatedMedia",
        json!({"features": [{"name": "prefers-color-scheme", "value": "dark"}]}),
    );
    page.goto(&server.url(&overview), None);
    tiles(&page);
    page.wait_for(
        "document.querySelector('.plot canvas') && document.querySelectorAll('[data-panel=conversions] button.row').length > 0",
        "the dark overview",
        30,
    );
    let background = page.js("getComputedStyle(document.documentElement).backgroundColor");
    assert_ne!(
        background,
        json!("rgb(246, 247, 249)"),
        "dark mode kept the light background"
    );
    page.screenshot(&shots.join("overview-dark.png"), true);
    page.call(
        "Emulation.setEmulatedMedia",
        json!({"features": [{"name": "prefers-color-scheme", "value": "light"}]}),
    );

    // Realtime: the last five minutes through a datetime range.
    page.goto(&server.url(&format!("/sites/{SITE}/realtime")), None);
    let rt = page.wait_for(
        "document.querySelector('[data-metric=realtime_visitors]') ? 'ok' : (document.querySelector('.error') ? document.querySelector('.error').innerText : null)",
        "the realtime panel",
        30,
    );
    assert_eq!(rt, json!("ok"), "realtime shows an error");
    page.screenshot(&shots.join("realtime.png"), true);

    // Settings: the conversions of the demo site, and the site list.
    page.goto(
        &server.url(&format!("/sites/{SITE}/settings/conversions")),
        None,
    );
    page.wait_for(
        "document.querySelector('.settings-body') && document.querySelector('.settings-body').innerText.includes('Purchase') && document.querySelector('.settings-body').innerText.includes('E-commerce')",
        "the conversion settings with templates",
        30,
    );
    page.screenshot(&shots.join("settings-conversions.png"), true);
    page.goto(&server.url(&format!("/sites/{SITE}/settings/sites")), None);
    page.wait_for(
        "document.querySelector('.settings-body .list') && document.querySelector('.settings-body .list').innerText.includes('demo.waymark.local')",
        "the site list",
        30,
    );
    // The install snippet reads as code, not as escaped entities.
    page.wait_for(
        "document.querySelector('.settings-body code') && document.querySelector('.settings-body code').innerText.startsWith('<script defer data-domain=')",
        "the tracker snippet as plain text",
        10,
    );
    page.screenshot(&shots.join("settings.png"), true);
    page.goto(&server.url(&format!("/sites/{SITE}/settings/users")), None);
    page.wait_for(
        &format!("document.querySelector('.settings-body .list') && document.querySelector('.settings-body .list').innerText.includes({EMAIL:?})"),
        "the user list",
        30,
    );
    // A write from the browser (cookie + X-CSRF-Token): create an API key, shown once.
    page.goto(&server.url(&format!("/sites/{SITE}/settings/keys")), None);
    page.wait_for(
        "document.querySelector('.settings-body .list')",
        "the key list",
        30,
    );
    page.js("document.querySelector('.settings-body input[name=name]').value = 'from the dashboard test'");
    page.click(".settings-body form .btn.primary", "left", false);
    let secret = page.wait_for(
        "document.querySelector('.secret') && document.querySelector('.secret').innerText",
        "the new key",
        30,
    );
    let secret = secret.as_str().unwrap().to_string();
    assert!(secret.len() > 20, "{secret}");
    page.wait_for(
        "document.querySelector('.settings-body .list').innerText.includes('from the dashboard test')",
        "the new key in the list",
        30,
    );
    page.screenshot(&shots.join("settings-keys.png"), true);
    // The key works for the Stats API.
    let resp = agent()
        .post(&server.url("/api/v2/query"))
        .header("Authorization", &format!("Bearer {secret}"))
        .send(
            json!({"site_id": SITE, "metrics": ["visitors"], "date_range": "30d"})
                .to_string()
                .as_bytes(),
        )
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);

    // Phone width: no horizontal overflow.
    page.set_viewport(390, 844, true);
    page.goto(&server.url(&overview), None);
    tiles(&page);
    page.wait_for(
        "document.querySelector('.plot canvas') && document.querySelectorAll('button.row').length > 5 && \
         document.querySelectorAll('[data-panel=conversions] button.row').length > 0",
        "the overview at phone width",
        30,
    );
    let widths = page.js("[document.documentElement.scrollWidth, window.innerWidth]");
    assert!(
        widths[0].as_f64() <= widths[1].as_f64(),
        "horizontal overflow at 390 px: {widths}"
    );
    page.screenshot(&shots.join("phone.png"), true);
    page.goto(&server.url(&format!("/sites/{SITE}/funnels")), None);
    page.wait_for(
        "document.querySelector('.step.weakest')",
        "the phone funnel",
        30,
    );
    let widths = page.js("[document.documentElement.scrollWidth, window.innerWidth]");
    assert!(
        widths[0].as_f64() <= widths[1].as_f64(),
        "horizontal overflow of the funnel at 390 px: {widths}"
    );
    page.screenshot(&shots.join("phone-funnel.png"), true);

    // Signing out ends the session: the dashboard then sends the browser to sign in again.
    page.click(".who button[type=submit]", "left", false);
    page.wait_url(&server.url("/login"));
    page.goto(&server.url(&overview), None);
    page.wait_url(&server.url("/login?next="));
    drop(page);
    drop(browser);

    shared_link(&server, &chromium, &shots);
}

/// A shared link opens without signing in, shows the site's reports and cannot reach settings.
fn shared_link(server: &Server, chromium: &std::path::Path, shots: &std::path::Path) {
    let resp = agent()
        .post(&server.url(&format!("/api/sites/{SITE}/shared-links")))
        .header("Authorization", &format!("Bearer {KEY}"))
        .header("Content-Type", "application/json")
        .send(json!({"name": "dashboard test"}).to_string().as_bytes())
        .unwrap();
    let status = resp.status().as_u16();
    let body = resp.into_body().read_to_string().unwrap_or_default();
    assert!(
        status == 200 || status == 201,
        "creating a shared link: {status} {body}"
    );
    let link: Value = serde_json::from_str(&body).unwrap();
    let token = link["token"]
        .as_str()
        .map(str::to_string)
        .or_else(|| {
            link["url"]
                .as_str()
                .and_then(|u| u.rsplit("/share/").next())
                .map(str::to_string)
        })
        .unwrap_or_else(|| panic!("no token in {link}"));

    let browser = Browser::launch(chromium, CHROME_UA);
    let page = browser.first_page();
    page.goto(&server.url(&format!("/share/{token}")), None);
    let shown = tiles(&page);
    assert_same(&shown, &api_top(server, json!([])), "shared link");
    let tabs = page.js("[...document.querySelectorAll('.tabs a')].map(a => a.textContent)");
    assert_eq!(tabs, json!(["Overview", "Funnels", "Realtime"]));
    assert_eq!(
        page.js("document.querySelector('.site-switch')"),
        Value::Null
    );
    assert!(page
        .js("location.pathname")
        .as_str()
        .unwrap()
        .starts_with("/share/"));
    page.wait_for(
        "document.querySelector('[data-metric=conversions]') && document.querySelectorAll('[data-panel=conversions] button.row').length > 0",
        "conversions through the shared link",
        30,
    );
    page.screenshot(&shots.join("shared.png"), true);
    // The funnel view works through the link too.
    page.click(".tabs a:nth-child(2)", "left", false);
    page.wait_for(
        "document.querySelector('.step.weakest')",
        "the shared funnel",
        30,
    );
    // Settings APIs refuse the link's token, even from the page itself; the site list names
    // only the link's own site.
    let refused = page.js(&format!(
        "(function(){{var h={{'X-Waymark-Share': {token:?}, 'Content-Type': 'application/json'}};\
           var reads=['/api/users', '/api/keys', '/api/sites/{SITE}/shared-links'].map(p =>\
             fetch(p, {{headers: h, credentials: 'same-origin'}}).then(r => r.status));\
           var write=fetch('/api/sites', {{method: 'POST', headers: h, credentials: 'same-origin',\
             body: JSON.stringify({{domain: 'evil.example', timezone: 'UTC'}})}}).then(r => r.status);\
           return Promise.all(reads.concat([write]))}})()"
    ));
    for s in refused.as_array().unwrap() {
        let s = s.as_u64().unwrap();
        assert!(
            s == 401 || s == 403,
            "a shared link reached settings: {refused}"
        );
    }
    let listed = page.js(&format!(
        "fetch('/api/sites', {{headers: {{'X-Waymark-Share': {token:?}}}}}).then(r => r.ok ? r.json() : {{sites: []}})\
           .then(j => (j.sites || []).map(s => s.domain))"
    ));
    assert!(
        listed == json!([SITE]) || listed == json!([]),
        "a shared link lists other sites: {listed}"
    );
    // A settings URL under /share/ does not exist; the shell never shows settings there.
    page.goto(&server.url(&format!("/share/{token}?view=settings")), None);
    tiles(&page);
    assert_eq!(page.js("document.querySelector('.settings')"), Value::Null);
}
