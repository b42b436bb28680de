#!/usr/bin/env python3
"""Drives a headless Chromium (already started by run.sh with --remote-debugging-port) through the
test pages and checks what the tracker POSTed to the collector (one JSON body per line in the
events file). The expected outcomes are listed in README.md, scenario by scenario.

  python3 drive.py --cdp-port 9222 --base http://shop.example:8000 --events events.jsonl
"""
import argparse
import json
import sys
import time
import urllib.request

import websocket  # pip: websocket-client

ARGS = None
PASSED = 0
FAILED = []


# ---- checks ----------------------------------------------------------------------------------
def check(what, ok, detail=""):
    global PASSED
    if ok:
        PASSED += 1
        print("  ok   " + what)
    else:
        FAILED.append(what)
        print("  FAIL " + what + ("  -- " + detail if detail else ""))


def events():
    with open(ARGS.events) as f:
        return [json.loads(line) for line in f if line.strip()]


def mark():
    return len(events())


def since(m):
    return events()[m:]


def wait_for(m, pred, count=1, timeout=6.0):
    """Waits until at least `count` events after mark m satisfy pred; returns those events."""
    deadline = time.time() + timeout
    while True:
        found = [e for e in since(m) if pred(e)]
        if len(found) >= count or time.time() > deadline:
            return found
        time.sleep(0.1)


def quiet(m, seconds=1.5):
    """Waits, then returns the events sent after mark m (for 'nothing was sent' checks)."""
    time.sleep(seconds)
    return since(m)


def named(name, url=None):
    return lambda e: e.get("n") == name and (url is None or e.get("u") == url)


def show(evs):
    return json.dumps(evs)[:600]


SEND_RECORDER = """(function () {
  var f = window.fetch; window.__sent = [];
  window.fetch = function (url, opts) {
    try { var b = JSON.parse(opts.body); window.__sent.push(b.n + ' ' + b.u); } catch (e) {}
    return f.apply(this, arguments);
  };
})()"""


# ---- a minimal Chrome DevTools Protocol client -----------------------------------------------
class Connection:
    def __init__(self, ws_url):
        self.ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise RuntimeError("%s: %s" % (method, msg["error"]))
                return msg.get("result", {})


class Browser(Connection):
    """Browser-level session: opens, activates (= shows) and closes tabs."""

    def __init__(self, port):
        version = json.load(urllib.request.urlopen("http://127.0.0.1:%d/json/version" % port))
        Connection.__init__(self, version["webSocketDebuggerUrl"])
        self.port = port

    def open(self, url, background=False):
        return self.call("Target.createTarget", url=url, background=background)["targetId"]

    def show(self, target_id):
        self.call("Target.activateTarget", targetId=target_id)

    def close(self, target_id):
        self.call("Target.closeTarget", targetId=target_id)

    def page(self, target_id):
        targets = json.load(urllib.request.urlopen("http://127.0.0.1:%d/json/list" % self.port))
        return Page([t for t in targets if t["id"] == target_id][0])


class Page(Connection):
    def __init__(self, target):
        Connection.__init__(self, target["webSocketDebuggerUrl"])
        self.target_id = target["id"]
        self.call("Page.enable")
        self.call("Runtime.enable")
        # A page driven over CDP reports document.hasFocus() == false until focus is emulated;
        # engaged time needs focus. Turning emulation off again fires a real `blur`.
        self.call("Emulation.setFocusEmulationEnabled", enabled=True)
        self.call("Emulation.setDeviceMetricsOverride", width=1000, height=800,
                  deviceScaleFactor=1, mobile=False)
        # Requests reach the collector over parallel connections, so their arrival order is not
        # the order the tracker sent them in. Record the send order in the page (window.__sent).
        self.call("Page.addScriptToEvaluateOnNewDocument", source=SEND_RECORDER)

    def js(self, expression):
        """Evaluates an expression in the page (awaiting promises) and returns its JSON value."""
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                      awaitPromise=True, userGesture=True)
        if "exceptionDetails" in r:
            raise RuntimeError("js error in %r: %s" % (expression, r["exceptionDetails"]))
        return r["result"].get("value")

    def goto(self, url, referrer=None):
        params = {"url": url}
        if referrer:
            params["referrer"] = referrer
        self.call("Page.navigate", **params)
        self.settle()

    def settle(self, timeout=10):
        """Waits until the current document has loaded and the deferred tracker has run."""
        deadline = time.time() + timeout
        time.sleep(0.2)
        while time.time() < deadline:
            try:
                if self.js("document.readyState") == "complete":
                    time.sleep(0.2)
                    return
            except RuntimeError:
                pass  # evaluated during a navigation: try again
            time.sleep(0.1)
        raise RuntimeError("page did not load")

    def click(self, selector, button="left", ctrl=False):
        """A real mouse click (press + release) in the middle of the element."""
        box = self.js("(function(){var el=document.querySelector(%s);el.scrollIntoView({block:'center'});"
                      "var r=el.getBoundingClientRect();return [r.left+r.width/2,r.top+r.height/2]})()"
                      % json.dumps(selector))
        time.sleep(0.1)
        buttons = {"left": 1, "middle": 4}[button]
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button=button,
                      buttons=buttons if kind == "mousePressed" else 0, clickCount=1,
                      modifiers=2 if ctrl else 0)


# ---- scenarios -------------------------------------------------------------------------------
def scenario_smoke():
    print("smoke (--virtual-time-budget --dump-dom run made by run.sh, no CDP):")
    smoke = [e for e in events() if "smoke=1" in e.get("u", "")]
    check("smoke: pageview sent", any(e["n"] == "pageview" for e in smoke), show(smoke))
    check("smoke: both queued calls sent", len([e for e in smoke if e["n"] == "Queued"]) == 2, show(smoke))


def scenario_pageview_custom_spa_engagement(browser, page, base):
    print("pageview, queue, custom events (core script, index.html):")
    start = base + "/?utm_source=newsletter&utm_campaign=spring"
    m = mark()
    page.goto(start, referrer="http://news.example/article/1")
    pv = wait_for(m, named("pageview", start))
    check("pageview with the full url incl. UTM", len(pv) == 1, show(since(m)))
    if pv:
        e = pv[0]
        check("pageview referrer is document.referrer", e.get("r") == "http://news.example/", show(e))
        check("pageview domain from data-domain", e.get("d") == "shop.example", show(e))
        check("pageview carries no h / i / p", not ({"h", "i", "p", "$"} & set(e)), show(e))
    queued = wait_for(m, named("Queued"), count=2)
    check("queued plausible() and waymark() calls sent after load",
          sorted(e.get("p", {}).get("via") for e in queued) == ["plausible", "waymark"], show(queued))
    order = page.js("__sent")
    check("pageview is sent before the queued calls", order[:1] == ["pageview " + start], str(order))
    check("no cookie and no storage written",
          page.js("document.cookie === '' && localStorage.length === 0 && sessionStorage.length === 0"))

    m = mark()
    cb = page.js("new Promise(function(ok){waymark('Purchase',{props:{plan:'pro',seats:3,trial:false},"
                 "revenue:{amount:9.99,currency:'EUR'},callback:ok})})")
    ev = wait_for(m, named("Purchase"))
    check("custom event with props and revenue",
          ev and ev[0].get("p") == {"plan": "pro", "seats": 3, "trial": False}
          and ev[0].get("$") == {"amount": 9.99, "currency": "EUR"} and ev[0].get("u") == start,
          show(ev))
    check("callback called after the request completed, with status 202", cb == {"status": 202}, str(cb))
    page.js("plausible('Signup')")
    ev = wait_for(m, named("Signup"))
    check("plausible('Signup') sends Signup", len(ev) == 1 and "p" not in ev[0], show(ev))
    page.js("waymark('Video Played', {interactive: false})")
    ev = wait_for(m, named("Video Played"))
    check("interactive:false sends i:false", ev and ev[0].get("i") is False, show(ev))

    print("single-page-app navigation:")
    m = mark()
    sent = len(page.js("__sent"))
    page.js("history.pushState({}, '', '/pricing')")
    pv = wait_for(m, named("pageview", base + "/pricing"))
    check("pushState sends a pageview of the new path", len(pv) == 1, show(since(m)))
    order = page.js("__sent")[sent:]
    if pv:
        check("SPA pageview keeps document.referrer", pv[0].get("r") == "http://news.example/", show(pv))
    evs = since(m)
    check("engagement of the previous page is sent before the SPA pageview",
          order == ["engagement " + start, "pageview " + base + "/pricing"] and len(evs) == 2, str(order))
    eng = [e for e in evs if e["n"] == "engagement"]
    if eng:
        e = eng[0]
        check("engagement fields: sd (0-100 int), e (ms int), i:false, d",
              isinstance(e.get("sd"), int) and 0 <= e["sd"] <= 100 and isinstance(e.get("e"), int)
              and e.get("i") is False and e.get("d") == "shop.example", show(e))
    m = mark()
    page.js("history.replaceState({}, '', '/pricing?tab=yearly')")
    page.js("history.pushState({}, '', '/pricing?tab=monthly')")
    check("replaceState/pushState to the same path send nothing", quiet(m, 1.0) == [], show(since(m)))

    m = mark()
    page.js("history.back()")  # -> /pricing?tab=yearly: same path
    pv = wait_for(m, named("pageview"), timeout=1.5)
    check("popstate within the same path sends nothing", pv == [], show(since(m)))
    page.js("history.back()")  # -> the start url
    pv = wait_for(m, named("pageview", start))
    check("popstate to another path sends a pageview", len(pv) == 1, show(since(m)))
    m = mark()
    page.js("history.pushState({}, '', '/pricing')")
    pv = wait_for(m, named("pageview", base + "/pricing"))
    check("pushState to /pricing again sends a pageview", len(pv) == 1, show(since(m)))

    print("engagement (time while visible + focused, scroll depth):")
    check("page is visible and focused in headless Chromium",
          page.js("document.visibilityState === 'visible' && document.hasFocus()"))
    m = mark()
    page.js("scrollTo(0, (document.documentElement.scrollHeight - innerHeight) / 2)")
    time.sleep(2.0)
    # Focus emulation also keeps a page visible, so it is switched off for the tab switch; that
    # first fires a real `blur` (the clock pauses), then the switch fires `visibilitychange`.
    page.call("Emulation.setFocusEmulationEnabled", enabled=False)
    other = browser.open("about:blank")  # switch to another tab: the page becomes hidden
    browser.show(other)
    eng1 = wait_for(m, named("engagement", base + "/pricing"))
    check("tab switch (hidden) sends engagement: half-way scroll ~58 %, ~2 s",
          len(eng1) == 1 and 50 <= eng1[0]["sd"] <= 65 and 1800 <= eng1[0]["e"] <= 3500, show(eng1))
    check("the page really was hidden", page.js("document.visibilityState") == "hidden")
    time.sleep(2.0)  # hidden: does not count
    browser.show(page.target_id)
    browser.close(other)
    time.sleep(2.0)  # visible again but without focus (blurred window): does not count
    check("the page really was visible without focus",
          page.js("document.visibilityState + ' ' + document.hasFocus()") == "visible false")
    check("showing the page again sends nothing (the clock only resumes)",
          len([e for e in since(m) if e["n"] == "engagement"]) == 1, show(since(m)))
    page.call("Emulation.setFocusEmulationEnabled", enabled=True)  # focus: the clock runs again
    page.js("scrollTo(0, document.documentElement.scrollHeight)")
    time.sleep(6.0)
    page.goto(base + "/features.html")  # leaving: visibilitychange(hidden) + pagehide
    eng = wait_for(m, named("engagement", base + "/pricing"), count=2)
    check("leaving after 6 s at the bottom sends sd=100 and 5000<=e<=7500 (hidden/blurred time excluded)",
          len(eng) >= 2 and eng[1]["sd"] == 100 and 5000 <= eng[1]["e"] <= 7500, show(eng))
    time.sleep(0.5)
    eng = [e for e in since(m) if e["n"] == "engagement"]
    check("visibilitychange + pagehide on leave send only one engagement", len(eng) == 2, show(eng))


def scenario_features(page, base):
    print("optional features (full script, features.html):")
    url = base + "/features.html"
    m = mark()
    pv = [e for e in events() if e["n"] == "pageview" and e["u"] == url]  # opened by the last scenario
    check("pageview without referrer has r:null", pv and pv[-1].get("r", "missing") is None, show(pv))

    page.click("#download", button="middle")
    ev = wait_for(m, named("File Download"))
    check("middle-click on a .pdf link: File Download, url without query",
          len(ev) == 1 and ev[0].get("p") == {"url": base + "/files/report.pdf"}, show(ev))
    page.click("#download-upper", ctrl=True)
    ev = wait_for(m, named("File Download"), count=2)
    check("ctrl-click on a .CSV link: File Download",
          len(ev) == 2 and ev[1]["p"]["url"] == base + "/files/DATA.CSV", show(ev))
    m2 = mark()
    page.click("#not-download", ctrl=True)
    check("ctrl-click on a same-site .html link sends nothing", quiet(m2, 1.0) == [], show(since(m2)))
    page.click("#outbound", ctrl=True)
    ev = wait_for(m, named("Outbound Link: Click"))
    check("ctrl-click on an outbound link: Outbound Link: Click with the full url",
          len(ev) == 1 and ev[0].get("p") == {"url": "http://other.example/landing?ref=shop"}, show(ev))

    page.click("#tag-class")
    ev = wait_for(m, named("Newsletter Signup"))
    check("class-tagged button (waymark-event-name=Newsletter+Signup)",
          len(ev) == 1 and ev[0].get("p") == {"position": "footer"}, show(ev))
    page.click("#tag-attr-inner")
    ev = wait_for(m, named("Add to cart"))
    check("attribute-tagged button (data-waymark-event, click on a child) with prop and revenue",
          len(ev) == 1 and ev[0].get("p") == {"sku": "42"}
          and ev[0].get("$") == {"amount": "19.90", "currency": "EUR"}, show(ev))
    page.click("#tag-plausible")
    ev = wait_for(m, named("Pricing Click"))
    check("Plausible class convention on a link (name--Pricing+Click) adds the url prop",
          len(ev) == 1 and ev[0].get("p") == {"plan": "pro", "url": url + "#pricing"}, show(ev))
    check("hash link click without data-hash sends no pageview",
          not [e for e in quiet(m, 0.5) if e["n"] == "pageview"], show(since(m)))

    m = mark()
    page.click("#tagged-submit")
    ev = wait_for(m, named("Trial Started"))
    page.settle()
    check("submitting a tagged form sends its tagged event", len(ev) == 1, show(since(m)))
    check("... and no Form: Submission", not [e for e in since(m) if e["n"] == "Form: Submission"],
          show(since(m)))

    page.goto(url)
    m = mark()
    page.click("#submit")
    ev = wait_for(m, named("Form: Submission"))
    check("form submission (navigating away) sends Form: Submission with path",
          len(ev) == 1 and ev[0].get("p") == {"path": "/features.html"}, show(since(m)))
    page.settle()
    thanks = base + "/thanks.html?topic=demo"
    check("the form's target page records its pageview", wait_for(m, named("pageview", thanks)) != [],
          show(since(m)))

    m = mark()
    page.click("#outbound")  # plain left click: the page navigates away at once
    ev = wait_for(m, named("Outbound Link: Click"))
    check("same-tab outbound click survives the navigation",
          len(ev) == 1 and ev[0]["p"]["url"] == "http://other.example:%d/after-form" % ARGS.port and ev[0]["u"] == thanks,
          show(since(m)))
    page.settle()
    check("the navigation was not blocked", page.js("location.hostname") == "other.example")
    check("leaving also sends the page's engagement", wait_for(m, named("engagement", thanks)) != [],
          show(since(m)))


def scenario_legacy_hash(page, base):
    print("legacy snippet: features from the file name, hash routing, rollup domains:")
    m = mark()
    page.goto(base + "/legacy.html#/home")
    pv = wait_for(m, named("pageview"))
    check("hash mode pageview has the fragment and h:1",
          len(pv) == 1 and pv[0]["u"] == base + "/legacy.html#/home" and pv[0].get("h") == 1, show(pv))
    check("comma-separated data-domain is sent as is",
          pv and pv[0]["d"] == "shop.example,rollup.example", show(pv))
    m = mark()
    page.js("location.hash = '#/cart'")
    pv = wait_for(m, named("pageview"))
    check("hashchange sends a pageview in hash mode",
          len(pv) == 1 and pv[0]["u"] == base + "/legacy.html#/cart" and pv[0].get("h") == 1, show(pv))
    eng = [e for e in since(m) if e["n"] == "engagement"]
    check("engagement of the previous hash route, with h:1",
          len(eng) == 1 and eng[0]["u"] == base + "/legacy.html#/home" and eng[0].get("h") == 1, show(eng))
    m = mark()
    page.js("location.hash = '#/cart'")
    check("same hash again sends nothing", quiet(m, 1.0) == [], show(since(m)))
    page.click("#outbound", ctrl=True)
    ev = wait_for(m, named("Outbound Link: Click"))
    check("outbound-links switched on by the file name (script.hash.outbound-links.js)",
          len(ev) == 1 and ev[0]["p"]["url"] == "https://other.example/docs" and ev[0].get("h") == 1,
          show(ev))


def scenario_manual(page, base):
    print("manual pageviews (data-manual):")
    m = mark()
    page.goto(base + "/manual.html")
    pv = wait_for(m, named("pageview"))
    check("only the page's own pageview, with its custom u",
          len([e for e in quiet(m, 0.5) if e["n"] == "pageview"]) == 1 and pv
          and pv[0]["u"] == base + "/user/:id", show(since(m)))
    m = mark()
    page.js("history.pushState({}, '', '/manual/2')")
    check("no automatic SPA pageview in manual mode",
          not [e for e in quiet(m, 1.0) if e["n"] == "pageview"], show(since(m)))
    page.js("waymark('pageview', {u: location.origin + '/user/:id/2'})")
    pv = wait_for(m, named("pageview"))
    eng = [e for e in since(m) if e["n"] == "engagement"]
    check("a manual pageview call sends a pageview and the previous page's engagement",
          len(pv) == 1 and eng and eng[0]["u"] == base + "/user/:id", show(since(m)))


def scenario_ignored(page, base, port):
    print("exclusions and ignore rules (nothing may be sent):")
    m = mark()
    page.goto(base + "/admin/")
    cb = page.js("new Promise(function(ok){waymark('Signup',{callback:ok})})")
    check("excluded page (/admin/**): custom event callback says ignored", cb == {"ignored": "excluded"},
          str(cb))
    page.js("history.pushState({}, '', '/private-area')")  # /private* is excluded too
    excluded = lambda e: e["u"].startswith((base + "/admin", base + "/private"))
    check("excluded page sends nothing (no pageview, no event)",
          [e for e in quiet(m, 1.0) if excluded(e)] == [], show(since(m)))
    page.js("history.pushState({}, '', '/catalog')")
    pv = wait_for(m, named("pageview", base + "/catalog"))
    check("SPA navigation from an excluded page to an included one is tracked", len(pv) == 1,
          show(since(m)))
    check("... with no engagement for the excluded pages",
          not [e for e in since(m) if excluded(e)], show(since(m)))

    m = mark()
    page.goto("http://127.0.0.1:%d/" % port)
    cb = page.js("new Promise(function(ok){waymark('Signup',{callback:ok})})")
    check("127.0.0.1 is ignored, callback still called", cb == {"ignored": "localhost"}, str(cb))
    check("127.0.0.1 sends nothing", [e for e in quiet(m, 1.0) if "127.0.0.1" in e["u"]] == [],
          show(since(m)))

    for key in ("waymark_ignore", "plausible_ignore"):
        page.goto(base + "/")
        page.js("localStorage.setItem(%s, 'true')" % json.dumps(key))
        m = mark()
        page.goto(base + "/?optout=" + key)
        cb = page.js("new Promise(function(ok){waymark('Signup',{callback:ok})})")
        page.js("localStorage.clear()")
        check("localStorage.%s = 'true' opts out" % key,
              cb == {"ignored": "opt-out"} and [e for e in quiet(m, 1.0) if "optout" in e["u"]] == [],
              show(since(m)) + str(cb))

    for name, source in (("navigator.webdriver",
                          "Object.defineProperty(Navigator.prototype,'webdriver',{get:function(){return true}})"),
                         ("window.Cypress", "window.Cypress = {}")):
        script = page.call("Page.addScriptToEvaluateOnNewDocument", source=source)
        m = mark()
        page.goto(base + "/?automation=1")
        cb = page.js("new Promise(function(ok){waymark('Signup',{callback:ok})})")
        check("automation (%s) is ignored" % name, cb == {"ignored": "automation"} and
              [e for e in quiet(m, 1.0) if "?automation=1" in e["u"]] == [], show(since(m)) + str(cb))
        page.goto(base + "/automation.html")
        check("... unless data-allow-automation",
              wait_for(m, named("pageview", base + "/automation.html")) != [], show(since(m)))
        page.call("Page.removeScriptToEvaluateOnNewDocument", identifier=script["identifier"])


def scenario_double(page, base):
    print("script included twice:")
    m = mark()
    page.goto(base + "/double.html")
    check("only one pageview", len([e for e in quiet(m, 1.0) if e["n"] == "pageview"
                                    and e["u"] == base + "/double.html"]) == 1,
          show(since(m)))


def scenario_background_tab(browser, page, base):
    print("page opened in a background tab:")
    url = base + "/?background=1"
    m = mark()
    tab = browser.open(url, background=True)
    time.sleep(1.5)
    check("no pageview while the tab was never shown", not [e for e in since(m) if e["u"] == url],
          show(since(m)))
    browser.show(tab)
    check("pageview when the tab is first shown", wait_for(m, named("pageview", url)) != [], show(since(m)))
    browser.show(page.target_id)
    check("hiding it again sends its engagement", wait_for(m, named("engagement", url)) != [],
          show(since(m)))
    browser.close(tab)


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--cdp-port", type=int, required=True)
    p.add_argument("--base", required=True, help="http://shop.example:PORT")
    p.add_argument("--port", type=int, required=True, help="collector port (for 127.0.0.1)")
    p.add_argument("--events", required=True)
    ARGS = p.parse_args()

    scenario_smoke()
    browser = Browser(ARGS.cdp_port)
    targets = json.load(urllib.request.urlopen("http://127.0.0.1:%d/json/list" % ARGS.cdp_port))
    page = browser.page([t for t in targets if t["type"] == "page"][0]["id"])
    check("navigator.webdriver is off (run.sh: --disable-blink-features=AutomationControlled)",
          page.js("navigator.webdriver") is False)
    scenario_pageview_custom_spa_engagement(browser, page, ARGS.base)
    scenario_features(page, ARGS.base)
    scenario_legacy_hash(page, ARGS.base)
    scenario_manual(page, ARGS.base)
    scenario_ignored(page, ARGS.base, ARGS.port)
    scenario_double(page, ARGS.base)
    scenario_background_tab(browser, page, ARGS.base)

    bad = [e for e in events() if not isinstance(e.get("n"), str) or not e.get("u") or not e.get("d")]
    check("every recorded body has n, u and d", bad == [], show(bad))
    for f in FAILED:
        print("failed: " + f)
    print("%d passed, %d failed" % (PASSED, len(FAILED)))
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
