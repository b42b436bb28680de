/*
 * Waymark browser tracker.
 *
 * One source, two builds (see build.sh):
 *   dist/script.js       core:  pageviews (incl. SPA + hash routing), custom events, revenue,
 *                               engagement (time on page + scroll depth), exclusions, queue.
 *   dist/script.full.js  core + outbound links, file downloads, form submissions, tagged elements.
 * Blocks guarded by `if (FULL)` are removed from the core build by terser (`-d FULL=false`).
 *
 * Payload keys are Plausible's (`n u d r p $ i h sd e`), so the server accepts either tracker.
 * The script never sets cookies, never writes storage and sends no identifier.
 */
(function (w, d) {
  // Loaded twice (some SPA frameworks do that)? The first copy does all the work.
  if (w.waymark && w.waymark.w) return;

  var loc = w.location;
  var nav = w.navigator;
  var html = d.documentElement;

  // The <script> tag carrying the configuration. A detached dummy keeps the code branch-free
  // when currentScript is unavailable (then every data-* attribute reads as absent).
  var script = d.currentScript || d.createElement('script');

  // Segments of the script's file name: "script.hash.outbound-links.js" -> [script, hash, ...].
  // Lets a legacy Plausible snippet (features chosen by file name) keep working when only the
  // host changes, provided the server serves the full build under such names.
  var fileParts = script.src.split(/[?#]/)[0].split('/').pop().split('.');

  function attr(name) {
    return script.getAttribute('data-' + name);
  }

  // A feature is on when its data-* attribute is present (any value), or when its Plausible
  // file-name extension (`legacy`, default: the same word) is in the script's file name.
  function feature(name, legacy) {
    return script.hasAttribute('data-' + name) || fileParts.indexOf(legacy || name) > 0;
  }

  function on(target, type, fn) {
    target.addEventListener(type, fn);
  }

  // ---- configuration --------------------------------------------------------------------------
  // data-api: endpoint; default is the origin the script was loaded from.
  var endpoint = attr('api') || new URL('/api/event', script.src || loc.href).href;
  // data-domain: site id(s), comma-separated allowed; default is the page's host name.
  var domain = attr('domain') || loc.hostname;
  // data-hash: hash-based routing (path + #fragment is the page).
  var hashMode = feature('hash');
  // data-manual: no automatic pageviews; the page calls waymark('pageview', {u: ...}).
  var manual = feature('manual');

  // The "page" as the tracker sees it, used for exclusions and SPA de-duplication.
  function currentPage() {
    return loc.pathname + (hashMode ? loc.hash : '');
  }

  // Path patterns (data-include / data-exclude): comma-separated, `**` matches anything,
  // `*` anything but "/", an optional trailing slash is allowed, everything else is literal.
  function matches(list) {
    return list && list.split(',').some(function (pattern) {
      return RegExp('^' + pattern.trim().split('**').map(function (part) {
        return part.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*');
      }).join('.*') + '/?$').test(currentPage());
    });
  }

  // Why an event must not be sent, or undefined when it may be.
  function ignoreReason() {
    if (!feature('track-localhost', 'local') &&
        (/^localhost$|^127(\.\d+){3}$|^\[::1\]$/.test(loc.hostname) || loc.protocol == 'file:')) {
      return 'localhost';
    }
    if (!feature('allow-automation') && (nav.webdriver || w._phantom || w.__nightmare || w.Cypress)) {
      return 'automation';
    }
    try { // localStorage can throw (sandboxed iframes, disabled storage)
      if (localStorage.waymark_ignore == 'true' || localStorage.plausible_ignore == 'true') {
        return 'opt-out';
      }
    } catch (e) {}
    var include = attr('include');
    if ((include && !matches(include)) || matches(attr('exclude'))) return 'excluded';
  }

  // ---- transport ------------------------------------------------------------------------------
  // fetch with keepalive survives page unload and sends no cross-origin cookies; text/plain keeps
  // it a "simple" request (no CORS preflight). sendBeacon is the fallback for old browsers.
  // Nothing here ever blocks the page.
  function post(payload, callback) {
    var body = JSON.stringify(payload);
    var done = function (result) { callback && callback(result); };
    if (w.fetch) {
      fetch(endpoint, {
        method: 'POST',
        keepalive: true,
        body: body,
        headers: { 'Content-Type': 'text/plain' }
      }).then(function (r) { done({ status: r.status }); }, function (e) { done({ error: e }); });
    } else {
      nav.sendBeacon && nav.sendBeacon(endpoint, new Blob([body], { type: 'text/plain' }));
      done({});
    }
  }

  // ---- engagement -----------------------------------------------------------------------------
  var pageUrl;     // url of the current tracked pageview; falsy = no engagement to report
  var pageProps;   // props of that pageview, repeated on its engagement events
  var sentDepth;   // highest scroll depth already reported for the page (-1: nothing sent yet)
  var maxBottom;   // deepest visible pixel (scrollY + innerHeight) seen on the page
  var engagedMs;   // engaged time not yet reported
  var engagedSince; // timestamp since when the page is engaged, 0 while it is not

  // Called on every visibility/focus change: books the time engaged so far, then restarts or
  // pauses the clock. Engaged = the tab is visible and the window has focus.
  function clock() {
    var now = Date.now();
    if (engagedSince) engagedMs += now - engagedSince;
    engagedSince = d.visibilityState == 'visible' && d.hasFocus() ? now : 0;
  }

  function bottom() {
    return scrollY + innerHeight;
  }

  // Reports the current page's engagement, unless nothing changed since the last report
  // (the first report of a page is always sent; later ones need >= 1 s more or a deeper scroll).
  function flush() {
    clock();
    if (!pageUrl) return;
    var docHeight = Math.max(html.scrollHeight, (d.body || html).scrollHeight);
    // A page that does not scroll (docHeight <= viewport) counts as 100 %.
    var depth = Math.min(100, Math.round(Math.max(maxBottom, bottom()) / docHeight * 100));
    if (depth > sentDepth || engagedMs >= 1000) {
      post({
        n: 'engagement', u: pageUrl, d: domain, p: pageProps,
        sd: depth, e: engagedMs, i: false, h: hashMode ? 1 : void 0
      });
      sentDepth = Math.max(sentDepth, depth);
      engagedMs = 0;
    }
  }

  // ---- events ---------------------------------------------------------------------------------
  // waymark(name, {props, revenue, callback, interactive, u}) — also exposed as plausible().
  function track(name, options) {
    options = options || {};
    var callback = options.callback;
    var isPageview = name == 'pageview';
    if (isPageview) { // a new page starts: report the previous one's engagement first
      flush();
      pageUrl = 0;
    }
    var reason = ignoreReason();
    if (reason) {
      console.warn('Ignoring Event: ' + reason);
      callback && callback({ ignored: reason });
      return;
    }
    var url = options.u || loc.href;
    if (isPageview) {
      pageUrl = url;
      pageProps = options.props;
      sentDepth = -1;
      maxBottom = engagedMs = engagedSince = 0;
      clock();
    }
    post({
      n: name, u: url, d: domain, r: d.referrer || null,
      p: options.props, $: options.revenue,
      i: options.interactive === false ? false : void 0,
      h: hashMode ? 1 : void 0
    }, callback);
  }

  // Automatic pageview, skipped when the page (path, plus hash in hash mode) did not change.
  var lastPage, queue;
  function page() {
    var current = currentPage();
    if (current != lastPage) {
      lastPage = current;
      track('pageview');
    }
  }

  on(w, 'scroll', function () {
    maxBottom = Math.max(maxBottom, bottom());
  });
  on(w, 'focus', clock);
  on(w, 'blur', clock);
  on(w, 'pagehide', flush);
  on(d, 'visibilitychange', function () {
    if (d.visibilityState == 'hidden') {
      flush();
    } else {
      clock();
      // A page loaded in a background tab (or prerendered) counts when first shown.
      if (!manual && lastPage == null) start();
    }
  });

  if (FULL) {
    // ---- optional auto-captured events (full build) -------------------------------------------
    var trackOutbound = feature('outbound-links');
    var trackDownloads = feature('file-downloads');
    var trackForms = feature('form-submissions');
    // data-file-downloads="pdf,zip" replaces the list; Plausible's data-file-types does too,
    // and data-add-file-types extends it.
    var extensions = (attr('file-downloads') || attr('file-types') ||
      'pdf,xlsx,docx,txt,rtf,csv,exe,key,pps,ppt,pptx,7z,pkg,rar,gz,zip,avi,mov,mp4,mpeg,wmv,midi,mp3,wav,wma,dmg') +
      ',' + (attr('add-file-types') || '');

    // Reads a tagged element: {n: name, p: props, r: revenue} or undefined.
    //   classes:    waymark-event-name=Signup waymark-event-plan=pro  (plausible-… too; `--` may
    //               replace `=`, `+` means a space), waymark-revenue-amount=9 waymark-revenue-currency=EUR
    //   attributes: data-waymark-event="Signup" data-waymark-prop-plan="pro"
    //               data-waymark-revenue-amount="9" data-waymark-revenue-currency="EUR"
    var tagged = function (el) {
      var tag = { n: el.getAttribute('data-waymark-event'), p: {}, r: {} };
      var put = function (kind, key, value) {
        if (kind == 'revenue') tag.r[key] = value;
        else if (key == 'name' && kind == 'event') tag.n = value;
        else tag.p[key] = value;
      };
      [].forEach.call(el.attributes, function (a) {
        var m = a.name.match(/^data-waymark-(prop|revenue)-(.+)/);
        if (m) put(m[1], m[2], a.value);
      });
      [].forEach.call(el.classList, function (c) {
        var m = c.match(/^(?:waymark|plausible)-(event|revenue)-(.+?)(?:=|--)(.+)/);
        if (m) put(m[1], m[2], m[3].replace(/\+/g, ' '));
      });
      return tag.n && tag;
    };

    var sendTag = function (tag) {
      track(tag.n, { props: tag.p, revenue: tag.r.currency && tag.r });
    };

    // Clicks (left, ctrl/cmd/shift) arrive as `click`, middle clicks as `auxclick` (button 1).
    // The navigation is never delayed: keepalive lets the request outlive the page.
    var onClick = function (e) {
      var target = e.target;
      if (!target.closest || (e.type == 'auxclick' && e.button != 1)) return;
      var link = target.closest('a[href]');
      var el = target.closest('[data-waymark-event],[class*="-event-name"]');
      var tag = el && el.tagName != 'FORM' && tagged(el); // tagged forms count on submit
      if (tag) {
        if (link) tag.p.url = link.href;
        sendTag(tag);
      } else if (link) {
        if (trackOutbound && link.host && link.host != loc.host) {
          track('Outbound Link: Click', { props: { url: link.href } });
        } else if (trackDownloads &&
            extensions.split(',').indexOf(link.pathname.split('.').pop().toLowerCase()) >= 0) {
          track('File Download', { props: { url: link.href.split(/[?#]/)[0] } });
        }
      }
    };
    on(d, 'click', onClick);
    on(d, 'auxclick', onClick);

    // Submit fires only for forms that passed validation (or have novalidate).
    on(d, 'submit', function (e) {
      var tag = tagged(e.target);
      if (tag) sendTag(tag);
      else if (trackForms) track('Form: Submission', { props: { path: loc.pathname } });
    });
  }

  // ---- public API + queue ---------------------------------------------------------------------
  // Calls made before the script loaded: window.waymark.q / window.plausible.q (lists of
  // `arguments`), as queued by Plausible's snippet. They are replayed after the first pageview
  // (in manual mode at once, since the queue then holds the page's own pageview call).
  queue = [].concat((w.waymark || {}).q || [], (w.plausible || {}).q || []);
  function start() {
    manual || page();
    while (queue.length) track.apply(null, queue.shift());
  }
  track.w = 1;
  w.waymark = w.plausible = track;

  if (!manual) {
    // Single-page apps: a pageview after every history change (de-duplicated in page()).
    var history = w.history;
    ['pushState', 'replaceState'].forEach(function (method) {
      var original = history[method];
      history[method] = function () {
        original.apply(this, arguments);
        page();
      };
    });
    on(w, 'popstate', page);
    if (hashMode) on(w, 'hashchange', page);
    // Restored from the back/forward cache: a new view of the page.
    on(w, 'pageshow', function (e) {
      if (e.persisted) {
        lastPage = null;
        page();
      }
    });
  }
  // The first pageview waits until the page is visible (see the visibilitychange handler).
  if (manual || d.visibilityState == 'visible') start();
})(window, document);
