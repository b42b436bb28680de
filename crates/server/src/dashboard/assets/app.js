// Waymark dashboard: a single-page app (Preact + htm as native ES modules, uPlot for the chart),
// rendered from the JSON APIs; every view's state lives in the URL so it can be shared and reloaded.
import { h, render } from 'preact';
import { useState, useEffect, useRef, useMemo } from 'preact/hooks';
import htm from 'htm';

const html = htm.bind(h);

// ---- API client ---------------------------------------------------------------------------

/** Credentials of every call: the session cookie, or a shared link's token; CSRF for writes. */
const auth = { share: null, csrf: null };

class ApiError extends Error {
  constructor(status, message, field) {
    super(message);
    this.status = status;
    this.field = field;
  }
}

function toLogin() {
  const next = location.pathname + location.search;
  location.assign('/login?next=' + encodeURIComponent(next));
}

async function call(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (auth.share) headers['X-Waymark-Share'] = auth.share;
  // Cookie-authenticated writes need it; reads ignore it, so it simply goes on every call.
  if (auth.csrf) headers['X-CSRF-Token'] = auth.csrf;
  let resp;
  try {
    resp = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, 'The server did not answer (' + e.message + ').');
  }
  if (method !== 'GET') cache.clear();
  const text = await resp.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch (_) {
    data = { error: text.slice(0, 200) };
  }
  if (!resp.ok) {
    if (resp.status === 401 && !auth.share && path !== '/api/session') toLogin();
    const msg = (data && data.error) || resp.status + ' ' + resp.statusText;
    throw new ApiError(resp.status, msg, data && data.field);
  }
  return data;
}

const get = (path) => call('GET', path);

/** Answers of slow-changing GETs (definitions), shared by panels; any write clears them. */
const cache = new Map();
function cached(path) {
  if (!cache.has(path)) {
    const p = get(path);
    cache.set(path, p);
    p.catch(() => cache.delete(path));
  }
  return cache.get(path);
}

const definitionsPath = (site) => '/api/sites/' + enc(site) + '/conversions';
const enc = encodeURIComponent;

/** A list out of an answer that is either a bare array or `{key: [...]}`. */
function listOf(data, key) {
  if (Array.isArray(data)) return data;
  if (data && Array.isArray(data[key])) return data[key];
  if (data && Array.isArray(data.items)) return data.items;
  return [];
}

/** Runs `load` whenever `deps` change; stale answers are dropped. */
function useLoad(load, deps) {
  const [state, setState] = useState({ loading: true, data: null, error: null });
  const seq = useRef(0);
  useEffect(() => {
    const mine = ++seq.current;
    setState((s) => ({ loading: true, data: s.data, error: null }));
    Promise.resolve()
      .then(load)
      .then(
        (data) => mine === seq.current && setState({ loading: false, data, error: null }),
        (error) => mine === seq.current && setState({ loading: false, data: null, error })
      );
  }, deps);
  return [state];
}

// ---- formatting ---------------------------------------------------------------------------

function fmtNum(n) {
  if (n == null || Number.isNaN(n)) return '—';
  const a = Math.abs(n);
  const trim = (s) => s.replace(/\.0$/, '');
  if (a >= 1e9) return trim((n / 1e9).toFixed(1)) + 'B';
  if (a >= 1e6) return trim((n / 1e6).toFixed(a >= 1e7 ? 0 : 1)) + 'M';
  if (a >= 1e4) return Math.round(n / 1e3) + 'k';
  if (a >= 1e3) return trim((n / 1e3).toFixed(1)) + 'k';
  if (Number.isInteger(n)) return String(n);
  return trim(n.toFixed(2)).replace(/(\.\d)0$/, '$1');
}

function fmtPct(p) {
  if (p == null || Number.isNaN(p)) return '—';
  if (p === 0 || p >= 99.95) return Math.round(p) + '%';
  return p.toFixed(1).replace(/\.0$/, '') + '%';
}

function fmtDur(s) {
  if (s == null || Number.isNaN(s)) return '—';
  s = Math.max(0, Math.round(s));
  if (s < 60) return s + 's';
  if (s < 3600) return Math.floor(s / 60) + 'm ' + String(s % 60).padStart(2, '0') + 's';
  if (s < 86400) return Math.floor(s / 3600) + 'h ' + String(Math.floor((s % 3600) / 60)).padStart(2, '0') + 'm';
  return Math.floor(s / 86400) + 'd ' + Math.floor((s % 86400) / 3600) + 'h';
}

function fmtMoney(v, currency) {
  if (v == null) return '—';
  try {
    return new Intl.NumberFormat('en', {
      style: 'currency',
      currency: currency || 'EUR',
      notation: Math.abs(v) >= 1e4 ? 'compact' : 'standard',
      maximumFractionDigits: Math.abs(v) >= 100 ? 0 : 2,
    }).format(v);
  } catch (_) {
    return fmtNum(v) + ' ' + (currency || '');
  }
}

let regionNames = null;
try {
  regionNames = new Intl.DisplayNames(['en'], { type: 'region' });
} catch (_) {}

/** A country code as its English name (text, for chips and titles). */
function countryName(code) {
  if (!code || !/^[A-Z]{2}$/.test(code)) return code;
  try {
    return (regionNames && regionNames.of(code)) || code;
  } catch (_) {
    return code;
  }
}

/** A country code as a code badge and its name (flag emoji need fonts many systems lack). */
function countryLabel(code) {
  if (!code || !/^[A-Z]{2}$/.test(code)) return code;
  return html`<span class="cc" aria-hidden="true">${code}</span> ${countryName(code)}`;
}

// ---- dates (in the site's time zone) ------------------------------------------------------

function todayIn(tz) {
  try {
    return new Intl.DateTimeFormat('en-CA', { timeZone: tz || 'UTC', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
  } catch (_) {
    return new Date().toISOString().slice(0, 10);
  }
}

const DAY = 86400000;
const parseDay = (s) => Date.UTC(+s.slice(0, 4), +s.slice(5, 7) - 1, +s.slice(8, 10));
const dayStr = (ms) => new Date(ms).toISOString().slice(0, 10);
const addDays = (s, n) => dayStr(parseDay(s) + n * DAY);
const validDay = (s) => typeof s === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(parseDay(s));

function addMonths(s, n) {
  const d = new Date(parseDay(s));
  const y = d.getUTCFullYear(), m = d.getUTCMonth() + n;
  const last = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  return dayStr(Date.UTC(y, m, Math.min(d.getUTCDate(), last)));
}

const firstOfMonth = (s) => s.slice(0, 8) + '01';

const RANGES = [
  ['today', 'Today'],
  ['yesterday', 'Yesterday'],
  ['7d', 'Last 7 days'],
  ['30d', 'Last 30 days'],
  ['month', 'This month'],
  ['last_month', 'Last month'],
  ['12mo', 'Last 12 months'],
  ['all', 'All time'],
  ['custom', 'Custom…'],
];

/**
 * The chosen period: `api` is the Stats API's `date_range`, `report` the reports API's `range`;
 * presets go out as presets so the numbers equal a Stats API query with the same preset.
 */
function resolvePeriod(params, tz) {
  const today = todayIn(tz);
  let key = params.get('range') || '30d';
  let from, to, api, report;
  switch (key) {
    case 'today':
      from = to = today; api = 'day'; report = 'day';
      break;
    case 'yesterday':
      from = to = addDays(today, -1);
      break;
    case '7d':
      from = addDays(today, -6); to = today; api = report = '7d';
      break;
    case 'month':
      from = firstOfMonth(today); to = today; api = report = 'month';
      break;
    case 'last_month':
      to = addDays(firstOfMonth(today), -1); from = firstOfMonth(to);
      break;
    case '12mo':
      from = addMonths(firstOfMonth(today), -11); to = today; api = report = '12mo';
      break;
    case 'all':
      api = report = 'all';
      break;
    case 'custom': {
      const a = params.get('from'), b = params.get('to');
      if (validDay(a) && validDay(b) && a <= b) {
        from = a; to = b;
        break;
      }
      key = '30d';
    }
    // falls through: an incomplete custom range shows the default
    default:
      key = '30d'; from = addDays(today, -29); to = today; api = report = '30d';
  }
  if (!api) {
    api = [from, to];
    report = from + ',' + to;
  }
  const days = from ? Math.round((parseDay(to) - parseDay(from)) / DAY) + 1 : null;
  const label = key === 'custom' ? from + ' – ' + to : (RANGES.find((r) => r[0] === key) || [0, key])[1];
  // The compared period is the server's rule (insight's, one for the Stats API and the reports):
  // the page names the mode and shows the dates and changes the answers carry.
  let compare = null;
  const mode = params.get('compare');
  if (from && (mode === 'previous' || mode === 'year')) {
    const server = mode === 'previous' ? 'previous_period' : 'year_over_year';
    compare = { mode, api: { mode: server }, report: server, label: mode === 'previous' ? 'previous period' : 'previous year' };
  }
  return { key, from, to, days, api, report, label, compare, today };
}

const INTERVALS = ['hour', 'day', 'week', 'month'];

function intervalsFor(period) {
  const d = period.days;
  if (d == null) return ['week', 'month'];
  return INTERVALS.filter((i) => (i === 'hour' ? d <= 7 : i === 'day' ? d <= 400 : i === 'week' ? d >= 14 : d >= 45));
}

function pickInterval(params, period) {
  const allowed = intervalsFor(period);
  const asked = params.get('interval');
  if (allowed.includes(asked)) return asked;
  const d = period.days;
  if (d == null) return 'month';
  if (d <= 2) return 'hour';
  if (d <= 90) return 'day';
  return allowed.includes('month') && d > 180 ? 'month' : 'week';
}

// ---- filters ------------------------------------------------------------------------------

/**
 * Filterable dimensions: the Stats API name, a label, and the reports API's filter name. The
 * reports keep whole visits: by a visit attribute, or (`event:*`) the visits that include a
 * matching event, so a funnel or a conversion count honours every filter.
 */
const DIMENSIONS = {
  channel: { api: 'visit:channel', label: 'Channel', report: 'channel' },
  source: { api: 'visit:source', label: 'Source', report: 'source' },
  referrer: { api: 'visit:referrer', label: 'Referrer', report: 'referrer' },
  utm_medium: { api: 'visit:utm_medium', label: 'UTM medium', report: 'utm_medium' },
  utm_source: { api: 'visit:utm_source', label: 'UTM source', report: 'utm_source' },
  utm_campaign: { api: 'visit:utm_campaign', label: 'UTM campaign', report: 'utm_campaign' },
  page: { api: 'event:page', label: 'Page', report: 'event:page' },
  entry_page: { api: 'visit:entry_page', label: 'Entry page', report: 'entry_page' },
  exit_page: { api: 'visit:exit_page', label: 'Exit page', report: 'visit:exit_page' },
  country: { api: 'visit:country', label: 'Country', report: 'country' },
  region: { api: 'visit:region', label: 'Region', report: 'region' },
  city: { api: 'visit:city', label: 'City', report: 'city' },
  device: { api: 'visit:device', label: 'Device', report: 'device' },
  browser: { api: 'visit:browser', label: 'Browser', report: 'browser' },
  os: { api: 'visit:os', label: 'OS', report: 'os' },
  goal: { api: 'event:goal', label: 'Conversion', report: 'event:goal' },
};

function dimension(key) {
  if (DIMENSIONS[key]) return DIMENSIONS[key];
  if (key.startsWith('prop:') && key.length > 5) {
    const p = key.slice(5);
    return { api: 'event:props:' + p, label: 'Property ' + p, report: 'event:props:' + p };
  }
  return null;
}

/** `f=is,source,Google` (repeated) → [{key, value}]; unknown keys are ignored. */
function readFilters(params) {
  const out = [];
  for (const f of params.getAll('f')) {
    const i = f.indexOf(','), j = f.indexOf(',', i + 1);
    if (i < 0 || j < 0 || f.slice(0, i) !== 'is') continue;
    const key = f.slice(i + 1, j), value = f.slice(j + 1);
    if (dimension(key) && !out.some((x) => x.key === key)) out.push({ key, value });
  }
  return out;
}

const apiFilters = (filters) => filters.map((f) => ['is', dimension(f.key).api, [f.value]]);

/** The reports API's `filter=` parameters (`&`-prefixed, or empty). */
const reportFilters = (filters) => filters.map((f) => '&filter=' + enc(dimension(f.key).report + '=' + f.value)).join('');

// ---- location and navigation --------------------------------------------------------------

const VIEWS = ['overview', 'funnels', 'realtime', 'settings'];

function readLocation() {
  const parts = location.pathname.split('/').filter(Boolean).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch (_) {
      return p;
    }
  });
  const params = new URLSearchParams(location.search);
  if (parts[0] === 'share') {
    const view = params.get('view');
    return { shared: true, token: parts[1] || '', site: null, view: ['funnels', 'realtime'].includes(view) ? view : 'overview', section: null, params };
  }
  const view = VIEWS.includes(parts[2]) ? parts[2] : 'overview';
  return { shared: false, token: null, site: parts[1] || null, view, section: view === 'settings' ? parts[3] || 'sites' : null, params };
}

/** The URL of a location (`params` a URLSearchParams). */
function urlOf(loc) {
  const p = new URLSearchParams(loc.params);
  let path;
  if (loc.shared) {
    path = '/share/' + enc(loc.token);
    p.delete('view');
    if (loc.view !== 'overview') p.set('view', loc.view);
  } else {
    path = '/sites/' + enc(loc.site || '');
    if (loc.view !== 'overview') path += '/' + loc.view;
    if (loc.view === 'settings' && loc.section) path += '/' + loc.section;
  }
  const qs = p.toString();
  return path + (qs ? '?' + qs : '');
}

let setLoc = () => {};

function navigate(url, replace) {
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  setLoc(readLocation());
  if (!replace) window.scrollTo({ top: 0 });
}

/** A same-page link: a real `<a href>` (open in a new tab works) that navigates in place. */
function Link({ href, children, ...rest }) {
  const onClick = (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(href);
  };
  return html`<a href=${href} onClick=${onClick} ...${rest}>${children}</a>`;
}

/** `loc` with some query parameters changed (`null` removes one). */
function withParams(loc, changes) {
  const p = new URLSearchParams(loc.params);
  for (const [k, v] of Object.entries(changes)) {
    if (v == null || v === '') p.delete(k);
    else p.set(k, v);
  }
  return { ...loc, params: p };
}

function withFilter(loc, key, value) {
  const p = new URLSearchParams();
  for (const [k, v] of loc.params) {
    if (k === 'f' && v.split(',')[1] === key) continue;
    p.append(k, v);
  }
  if (value != null) p.append('f', 'is,' + key + ',' + value);
  return { ...loc, params: p };
}

// ---- Stats API helpers --------------------------------------------------------------------

function query(ctx, body) {
  return call('POST', '/api/v2/query', { site_id: ctx.site, ...body });
}

const TOP_METRICS = ['visitors', 'visits', 'pageviews', 'views_per_visit', 'bounce_rate', 'visit_duration'];

// ---- small components ---------------------------------------------------------------------

function ErrorNote({ error, what }) {
  if (!error) return null;
  const status = error.status ? ' (HTTP ' + error.status + ')' : '';
  return html`<p class="error" role="alert"><strong>${what || 'This panel'} could not load${status}:</strong> ${error.message}</p>`;
}

function Loading({ label }) {
  return html`<p class="muted loading" aria-live="polite">${label || 'Loading…'}</p>`;
}

function Change({ value, invert, points }) {
  if (value == null || !Number.isFinite(value)) return null;
  const up = value > 0, flat = Math.abs(value) < 0.05;
  const good = flat ? 'flat' : up !== !!invert ? 'good' : 'bad';
  const text = (up ? '▲ ' : flat ? '' : '▼ ') + (points ? Math.abs(value).toFixed(1) + ' pts' : fmtPct(Math.abs(value)));
  return html`<span class=${'change ' + good} title="Change vs the comparison period">${text}</span>`;
}

/** Breakdown rows: a proportional bar behind each label; a click filters by the row. */
function Rows({ rows, total, onPick, metricLabel, format }) {
  if (!rows.length) return html`<p class="muted empty">No data for this period.</p>`;
  const max = Math.max(...rows.map((r) => r.value), 1);
  const base = total && total >= max ? total : max;
  return html`<ul class="rows">
    ${rows.map((r) => {
      const pct = Math.max(0.5, (r.value / base) * 100);
      const inner = html`<span class="bar" style=${'width:' + pct.toFixed(2) + '%'} aria-hidden="true"></span>
        <span class="label">${r.label}</span>
        <span class="value" title=${r.value.toLocaleString('en') + ' ' + metricLabel}>${(format || fmtNum)(r.value)}</span>`;
      return html`<li>${r.clickable === false || !onPick
        ? html`<div class="row">${inner}</div>`
        : html`<button type="button" class="row" data-value=${r.raw} onClick=${() => onPick(r.raw)}
            aria-label=${'Filter by ' + (r.text || r.label) + ', ' + r.value + ' ' + metricLabel}>${inner}</button>`}</li>`;
    })}
  </ul>`;
}

// ---- the app shell ------------------------------------------------------------------------

function App() {
  const [loc, setLocation] = useState(readLocation);
  setLoc = setLocation;
  useEffect(() => {
    const onPop = () => setLocation(readLocation());
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);

  auth.share = loc.shared ? loc.token : null;
  // Start the site's definitions alongside the session: the overview's goal numbers need them.
  if (!loc.shared && loc.site) cached(definitionsPath(loc.site)).catch(() => {});
  const [session] = useLoad(async () => {
    const s = await call('GET', '/api/session');
    auth.csrf = s && s.csrf_token;
    return s;
  }, [loc.shared, loc.token]);

  useEffect(() => {
    if (session.error && session.error.status === 401 && !loc.shared) toLogin();
  }, [session.error]);

  if (session.loading && !session.data) return html`<div class="boot">Loading…</div>`;
  if (session.error) {
    return html`<main class="page narrow"><h1>Waymark</h1>
      ${session.error.status === 401 && !loc.shared
        ? html`<p>Signing in… <a href="/login">Sign in</a></p>`
        : html`<${ErrorNote} error=${session.error} what="Your session" />
          ${loc.shared ? html`<p>This shared link may have been removed or may need its password. <a href=${location.pathname}>Try again</a>.</p>` : null}`}</main>`;
  }
  const s = session.data || {};
  const sites = listOf(s.sites, 'sites');
  const shared = loc.shared || s.mode === 'shared';
  let site = shared ? (sites[0] && sites[0].domain) : loc.site;
  if (!shared && !site && sites.length) {
    navigate(urlOf({ ...loc, site: sites[0].domain }), true);
    return null;
  }
  const siteInfo = sites.find((x) => x.domain === site) || { domain: site, timezone: 'UTC' };
  const ctx = { loc, site, tz: siteInfo.timezone || 'UTC', shared, session: s, sites, admin: s.role === 'admin' };
  if (!site) {
    return html`<${Frame} ctx=${ctx}><section class="card"><h2>No sites yet</h2>
      <p>Add a site in <${Link} href=${urlOf({ ...loc, site: '-', view: 'settings', section: 'sites' })}>settings</${Link}>
      or on the server: <code>waymark site add example.com --timezone Europe/Berlin</code>.</p></section></${Frame}>`;
  }
  const known = shared || sites.some((x) => x.domain === site) || site === '-';
  let body;
  if (!known && loc.view !== 'settings') {
    body = html`<section class="card"><h2>Unknown site</h2><p>There is no site <strong>${site}</strong> you can see.
      ${sites.length ? html` Pick one above.` : null}</p></section>`;
  } else if (loc.view === 'funnels') body = html`<${FunnelsView} ctx=${ctx} />`;
  else if (loc.view === 'realtime') body = html`<${RealtimeView} ctx=${ctx} />`;
  else if (loc.view === 'settings' && !shared) body = html`<${SettingsView} ctx=${ctx} />`;
  else body = html`<${Overview} ctx=${ctx} />`;
  return html`<${Frame} ctx=${ctx}>${body}</${Frame}>`;
}

function Frame({ ctx, children }) {
  const { loc, shared, sites, site, session } = ctx;
  useEffect(() => {
    document.title = (site && site !== '-' ? site + ' · ' : '') + 'Waymark';
  }, [site]);
  const tabs = [['overview', 'Overview'], ['funnels', 'Funnels'], ['realtime', 'Realtime']];
  if (!shared) tabs.push(['settings', 'Settings']);
  const switchSite = (e) => {
    const next = e.target.value;
    navigate(urlOf({ ...loc, site: next }));
  };
  return html`<a class="skip" href="#main">Skip to content</a>
    <header class="top">
      <div class="brand"><span class="logo" aria-hidden="true">◆</span> Waymark</div>
      ${shared
        ? html`<div class="site-name">${site}<span class="badge">shared</span></div>`
        : html`<label class="site-switch"><span class="sr">Site</span>
            <select onChange=${switchSite} value=${site} aria-label="Site">
              ${sites.map((x) => html`<option value=${x.domain}>${x.domain}</option>`)}
              ${site && site !== '-' && !sites.some((x) => x.domain === site) ? html`<option value=${site}>${site}</option>` : null}
            </select></label>`}
      <nav class="tabs" aria-label="Views">
        ${tabs.map(([v, label]) => html`<${Link} href=${urlOf({ ...loc, view: v, section: v === 'settings' ? 'sites' : null })}
          class=${'tab' + (loc.view === v ? ' active' : '')} aria-current=${loc.view === v ? 'page' : null}>${label}</${Link}>`)}
      </nav>
      ${shared ? null : html`<form class="who" method="post" action="/logout">
        <span class="muted email" title=${session.role || ''}>${session.email || ''}</span>
        <input type="hidden" name="csrf" value=${session.csrf_token || ''} />
        <button type="submit" class="link">Sign out</button></form>`}
    </header>
    <main id="main" tabindex="-1" class="page">${children}</main>
    <footer class="foot muted">Waymark · privacy-first analytics · <a href="/assets/VERSIONS.txt">libraries and licences</a></footer>`;
}

// ---- controls: period, comparison, filters ------------------------------------------------

/** " vs <dates>": the period the server compares with (`meta.comparison_date_range`). */
function ComparedRange({ ctx, period }) {
  const [state] = useLoad(async () => {
    if (!period.compare) return null;
    const r = await query(ctx, { metrics: ['visitors'], date_range: period.api, include: { comparisons: period.compare.api } });
    const range = r.meta && r.meta.comparison_date_range;
    return range ? range.map((t) => String(t).slice(0, 10)) : null;
  }, [ctx.site, JSON.stringify(period.api), period.compare && period.compare.report]);
  const d = period.compare && state.data;
  return d ? html` vs <span class="compared" data-from=${d[0]} data-to=${d[1]}>${d[0] === d[1] ? d[0] : d[0] + ' – ' + d[1]}</span>` : null;
}

function Controls({ ctx, period, showInterval }) {
  const { loc } = ctx;
  const [customOpen, setCustom] = useState(false);
  const custom = customOpen || period.key === 'custom';
  const [from, setFrom] = useState(period.from || addDays(period.today, -6));
  const [to, setTo] = useState(period.to || period.today);
  const go = (changes) => navigate(urlOf(withParams(loc, changes)));
  const onRange = (e) => {
    const v = e.target.value;
    if (v === 'custom') {
      setCustom(true);
      return;
    }
    setCustom(false);
    go({ range: v === '30d' ? null : v, from: null, to: null, interval: null, compare: v === 'all' ? null : loc.params.get('compare') });
  };
  const applyCustom = (e) => {
    e.preventDefault();
    if (validDay(from) && validDay(to) && from <= to) go({ range: 'custom', from, to, interval: null });
  };
  const filters = readFilters(loc.params);
  return html`<section class="controls" aria-label="Period and filters">
    <div class="control-row">
      <label class="field"><span>Period</span>
        <select value=${custom ? 'custom' : period.key} onChange=${onRange}>
          ${RANGES.map(([k, l]) => html`<option value=${k}>${l}</option>`)}
        </select></label>
      ${custom ? html`<form class="custom" onSubmit=${applyCustom}>
          <label class="field"><span>From</span><input type="date" value=${from} max=${period.today} onInput=${(e) => setFrom(e.target.value)} required /></label>
          <label class="field"><span>To</span><input type="date" value=${to} max=${period.today} onInput=${(e) => setTo(e.target.value)} required /></label>
          <button type="submit" class="btn">Apply</button></form>` : null}
      <label class="field"><span>Compare</span>
        <select value=${loc.params.get('compare') || ''} disabled=${!period.from}
          onChange=${(e) => go({ compare: e.target.value || null })}>
          <option value="">No comparison</option>
          <option value="previous">Previous period</option>
          <option value="year">Previous year</option>
        </select></label>
      <span class="period muted">${period.from ? (period.from === period.to ? period.from : period.from + ' – ' + period.to) : 'all data'}
        <${ComparedRange} ctx=${ctx} period=${period} /></span>
    </div>
    ${filters.length ? html`<ul class="chips" aria-label="Filters">
      ${filters.map((f) => html`<li class="chip"><span><span class="muted">${dimension(f.key).label} is</span> <strong>${f.key === 'country' ? countryName(f.value) : f.value}</strong></span>
        <button type="button" class="x" aria-label=${'Remove filter ' + dimension(f.key).label + ' is ' + f.value}
          onClick=${() => navigate(urlOf(withFilter(loc, f.key, null)))}>×</button></li>`)}
      ${filters.length > 1 ? html`<li><button type="button" class="link" onClick=${() => {
        const p = new URLSearchParams(loc.params);
        p.delete('f');
        navigate(urlOf({ ...loc, params: p }));
      }}>Clear all</button></li>` : null}
    </ul>` : null}
  </section>`;
}

// ---- overview -----------------------------------------------------------------------------

function Overview({ ctx }) {
  const { loc, tz } = ctx;
  const period = resolvePeriod(loc.params, tz);
  const filters = readFilters(loc.params);
  const fkey = JSON.stringify(filters);
  const qctx = { ...ctx, period, filters, apiFilters: apiFilters(filters), key: ctx.site + '|' + JSON.stringify(period.api) + '|' + (period.compare ? period.compare.report : '') + '|' + fkey };
  const pick = (key) => (value) => navigate(urlOf(withFilter(loc, key, value)));
  // One request: the report compares itself with the other period when asked.
  const [conv] = useLoad(async () => {
    let url = '/api/sites/' + enc(ctx.site) + '/reports/conversions?range=' + enc(period.report) + reportFilters(filters);
    if (period.compare) url += '&compare=' + enc(period.compare.report);
    return { now: await get(url) };
  }, [qctx.key]);
  // The macro conversions (the goals) by name, from the definitions (quicker than a report).
  const [defs] = useLoad(() => cached(definitionsPath(ctx.site)), [ctx.site]);
  const macros = defs.data ? listOf(defs.data, 'conversions').filter((c) => c.kind === 'macro').map((c) => c.name) : defs.error ? [] : null;
  const metric = TOP_METRICS.concat(['conversions']).includes(loc.params.get('metric')) ? loc.params.get('metric') : 'visitors';
  return html`<h1 class="sr">Overview of ${ctx.site}</h1>
    <${Controls} ctx=${ctx} period=${period} />
    <${TopStats} ctx=${qctx} conv=${conv} macros=${macros} metric=${metric} />
    <${Chart} ctx=${qctx} metric=${metric} macros=${macros} />
    <div class="grid">
      <${Breakdown} ctx=${qctx} title="Sources" onPick=${pick} tabs=${[
        ['channel', 'Channels'], ['source', 'Sources'], ['utm_medium', 'UTM medium'], ['utm_source', 'UTM source'], ['utm_campaign', 'UTM campaign']]} />
      <${Breakdown} ctx=${qctx} title="Pages" onPick=${pick} tabs=${[['page', 'Top pages'], ['entry_page', 'Entry pages'], ['exit_page', 'Exit pages']]} />
      <${Breakdown} ctx=${qctx} title="Locations" onPick=${pick} tabs=${[['country', 'Countries'], ['region', 'Regions'], ['city', 'Cities']]} />
      <${Breakdown} ctx=${qctx} title="Devices" onPick=${pick} tabs=${[['device', 'Devices'], ['browser', 'Browsers'], ['os', 'Operating systems']]} />
      <${ConversionsPanel} ctx=${qctx} conv=${conv} onPick=${pick('goal')} />
      <${PropsPanel} ctx=${qctx} defs=${defs} onPick=${pick} />
    </div>`;
}

/** The macro conversions of a conversions report: unique converting visitors, the rate, and
 * their changes as the report gives them ([visitors in %, the rate in points]). */
function macroSummary(report) {
  if (!report) return null;
  const macros = listOf(report.conversions, 'conversions').filter((c) => c.kind === 'macro');
  if (!macros.length) return null;
  const main = macros.reduce((a, b) => (b.visitors > a.visitors ? b : a));
  const ch = main.comparison && main.comparison.change;
  return {
    name: macros.length === 1 ? main.name : 'macro conversions',
    visitors: main.visitors,
    rate: main.rate,
    change: ch ? [ch.visitors, ch.rate] : null,
  };
}

/** A Stats API body, compared with the chosen period when there is one. */
function compared(period, body) {
  if (!period.compare) return body;
  return { ...body, include: { ...(body.include || {}), comparisons: period.compare.api } };
}

function TopStats({ ctx, conv, macros, metric }) {
  const { period } = ctx;
  // The numbers, and (compared) the other period's and each change, all from one answer.
  const [state] = useLoad(async () => {
    const r = await query(ctx, compared(period, { metrics: TOP_METRICS, date_range: period.api, filters: ctx.apiFilters }));
    const row = r && r.results && r.results[0];
    const c = row && row.comparison;
    return { now: row ? row.metrics : TOP_METRICS.map(() => 0), before: c ? c.metrics : null, change: c ? c.change : null };
  }, [ctx.key]);
  const tiles = [
    ['visitors', 'Unique visitors', fmtNum],
    ['visits', 'Visits', fmtNum],
    ['pageviews', 'Pageviews', fmtNum],
    ['views_per_visit', 'Views per visit', (v) => (v == null ? '—' : v.toFixed(2))],
    ['bounce_rate', 'Bounce rate', fmtPct, true],
    ['visit_duration', 'Visit duration', fmtDur],
  ];
  const select = (m) => navigate(urlOf(withParams(ctx.loc, { metric: m === 'visitors' ? null : m })), true);
  // Unique visitors with any macro conversion and the conversion rate: the Stats API's
  // event:goal filter (exact, and it honours every filter); the conversions report is the
  // fallback for older servers.
  const [goal] = useLoad(async () => {
    if (!macros || !macros.length) return null;
    const r = await query(ctx, compared(period, {
      metrics: ['visitors', 'conversion_rate'], date_range: period.api, filters: ctx.apiFilters.concat([['is', 'event:goal', macros]]),
    }));
    const row = r.results[0];
    const c = row && row.comparison;
    return { visitors: row ? row.metrics[0] : 0, rate: row ? row.metrics[1] : 0, change: c ? c.change : null };
  }, [ctx.key, JSON.stringify(macros)]);
  let macro = null;
  if (goal.data) macro = { name: macros.length === 1 ? macros[0] : 'any macro conversion', ...goal.data };
  else if (goal.error && conv.data) macro = macroSummary(conv.data.now);
  return html`<section class="card stats" aria-label="Top stats" aria-busy=${state.loading ? 'true' : 'false'}>
    <${ErrorNote} error=${state.error} what="Top stats" />
    <div class="tiles">
      ${tiles.map(([key, label, fmt, invert], i) => {
        const v = state.data ? state.data.now[i] : null;
        const b = state.data && state.data.before ? state.data.before[i] : null;
        const ch = state.data && state.data.change ? state.data.change[i] : null;
        const chartable = ['visitors', 'visits', 'pageviews'].includes(key);
        const inner = html`<span class="tile-label">${label}</span>
          <span class="tile-value" title=${v == null ? null : String(Math.round(v * 100) / 100)}>${state.loading && !state.data ? '…' : fmt(v)}</span>
          ${period.compare && b != null ? html`<span class="tile-change"><${Change} value=${ch} points=${key === 'bounce_rate'} invert=${invert} />
            <span class="muted small">from ${fmt(b)}</span></span>` : null}`;
        return chartable
          ? html`<button type="button" class=${'tile' + (metric === key ? ' active' : '')} data-metric=${key} data-value=${v == null ? '' : String(v)}
              aria-pressed=${metric === key ? 'true' : 'false'} onClick=${() => select(key)} title=${'Show ' + label.toLowerCase() + ' in the chart'}>${inner}</button>`
          : html`<div class="tile" data-metric=${key} data-value=${v == null ? '' : String(v)}>${inner}</div>`;
      })}
      ${macro ? html`<button type="button" class=${'tile' + (metric === 'conversions' ? ' active' : '')} data-metric="conversions" data-value=${macro.visitors}
          aria-pressed=${metric === 'conversions' ? 'true' : 'false'} onClick=${() => select('conversions')} title=${'Unique visitors with ' + macro.name}>
          <span class="tile-label">Conversions</span><span class="tile-value">${fmtNum(macro.visitors)}</span>
          ${period.compare && macro.change ? html`<span class="tile-change"><${Change} value=${macro.change[0]} /></span>` : html`<span class="muted small">${macro.name}</span>`}</button>
        <div class="tile" data-metric="conversion_rate" data-value=${macro.rate}>
          <span class="tile-label">Conversion rate</span><span class="tile-value">${fmtPct(macro.rate)}</span>
          ${period.compare && macro.change ? html`<span class="tile-change"><${Change} value=${macro.change[1]} points /></span>` : null}</div>` : null}
    </div>
  </section>`;
}

/** Stats API time labels → seconds since the epoch, read as UTC (shown as written). */
function labelTime(label) {
  const m = /^(\d{4})-(\d{2})(?:-(\d{2}))?(?:[ T](\d{2})(?::(\d{2}))?)?/.exec(String(label));
  if (!m) return null;
  return Date.UTC(+m[1], +m[2] - 1, +(m[3] || 1), +(m[4] || 0), +(m[5] || 0)) / 1000;
}

function Chart({ ctx, metric, macros }) {
  const { period, loc } = ctx;
  const interval = pickInterval(loc.params, period);
  const wantsGoals = metric === 'conversions';
  const [state] = useLoad(async () => {
    if (wantsGoals && !macros) return null;
    if (wantsGoals && !macros.length) throw new ApiError(0, 'this site has no macro conversion defined');
    const filters = ctx.apiFilters.concat(wantsGoals ? [['is', 'event:goal', macros]] : []);
    const m = wantsGoals ? 'visitors' : metric;
    // Compared, every bucket's row carries the matching bucket of the other period.
    const r = await query(ctx, compared(period, {
      metrics: [m], dimensions: ['time:' + interval], filters, date_range: period.api, include: { time_labels: true },
    }));
    const byLabel = new Map(r.results.map((x) => [x.dimensions[0], x]));
    let labels = r.meta && r.meta.time_labels;
    if (!labels || !labels.length) labels = r.results.map((x) => x.dimensions[0]);
    const at = (l) => byLabel.get(l);
    const now = labels.map((l) => [l, at(l) ? at(l).metrics[0] || 0 : 0]);
    const before = period.compare
      ? labels.map((l) => { const c = at(l) && at(l).comparison; return [c ? c.dimensions[0] : null, c ? c.metrics[0] || 0 : 0]; })
      : null;
    return { now, before };
  }, [ctx.key, metric, interval, JSON.stringify(macros)]);
  const label = { visitors: 'Visitors', visits: 'Visits', pageviews: 'Pageviews', conversions: 'Converting visitors' }[metric] || metric;
  const choices = intervalsFor(period);
  return html`<section class="card chart-card" aria-label="Time series">
    <div class="card-head"><h2>${label} <span class="muted small">by ${interval}</span></h2>
      <div class="seg" role="group" aria-label="Interval">
        ${choices.map((i) => html`<button type="button" class=${i === interval ? 'active' : ''} aria-pressed=${i === interval ? 'true' : 'false'}
          onClick=${() => navigate(urlOf(withParams(loc, { interval: i })), true)}>${i}</button>`)}
      </div></div>
    ${state.error ? html`<${ErrorNote} error=${state.error} what="The chart" />` : state.data ? html`<${Plot} data=${state.data} label=${label} compareLabel=${period.compare && period.compare.label} interval=${interval} />` : html`<div class="plot-space"><${Loading} /></div>`}
  </section>`;
}

function Plot({ data, label, compareLabel, interval }) {
  const el = useRef(null);
  useEffect(() => {
    if (!el.current || typeof window.uPlot !== 'function') return;
    const xs = data.now.map(([l], i) => labelTime(l) ?? i);
    const ys = data.now.map(([, v]) => v);
    const fmtWhen = (v) => (v == null ? '' : interval === 'hour'
      ? new Date(v * 1000).toISOString().slice(0, 16).replace('T', ' ')
      : new Date(v * 1000).toLocaleDateString('en', { day: interval === 'month' ? undefined : 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' }));
    const fmtVal = (u, v) => (v == null ? '—' : fmtNum(v));
    const series = [
      { label: interval === 'week' ? 'Week of' : 'Date', value: (u, v) => fmtWhen(v) },
      { label, stroke: 'var(--accent)', width: 2, fill: 'rgba(79, 70, 229, 0.08)', points: { show: xs.length < 40 }, value: fmtVal },
    ];
    const cols = [xs, ys];
    if (data.before) {
      cols.push(xs.map((_, i) => (data.before[i] ? data.before[i][1] : null)));
      series.push({ label: compareLabel || 'comparison', stroke: '#9ca3af', width: 1.5, dash: [6, 4], points: { show: false }, value: fmtVal });
    }
    const css = getComputedStyle(document.documentElement);
    const axisColor = css.getPropertyValue('--muted').trim() || '#6b7280';
    const grid = css.getPropertyValue('--line').trim() || '#e5e7eb';
    const accent = css.getPropertyValue('--accent').trim() || '#4f46e5';
    series[1].stroke = accent;
    const fmtX = interval === 'hour'
      ? (u, vals) => vals.map((v) => new Date(v * 1000).toISOString().slice(11, 16))
      : interval === 'month'
        ? (u, vals) => vals.map((v) => new Date(v * 1000).toLocaleString('en', { month: 'short', year: '2-digit', timeZone: 'UTC' }))
        : (u, vals) => vals.map((v) => new Date(v * 1000).toLocaleString('en', { month: 'short', day: 'numeric', timeZone: 'UTC' }));
    const width = () => Math.max(200, el.current.clientWidth);
    const plot = new window.uPlot({
      width: width(),
      height: 240,
      series,
      cursor: { drag: { x: false, y: false } },
      legend: { show: true },
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(4, max * 1.1)] } },
      axes: [
        // Ticks only at the data's own buckets, thinned to fit: no repeated or in-between dates.
        { stroke: axisColor, grid: { stroke: grid, width: 1 }, ticks: { show: false }, values: fmtX,
          splits: (u) => {
            const fit = Math.max(2, Math.floor(u.bbox.width / (window.devicePixelRatio || 1) / 70));
            const step = Math.ceil(xs.length / fit);
            return xs.filter((_, i) => i % step === 0);
          } },
        { stroke: axisColor, grid: { stroke: grid, width: 1 }, ticks: { show: false }, values: (u, vals) => vals.map(fmtNum), size: 50 },
      ],
      tzDate: (ts) => window.uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
    }, cols, el.current);
    const ro = new ResizeObserver(() => plot.setSize({ width: width(), height: 240 }));
    ro.observe(el.current);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [data, label]);
  const total = data.now.reduce((s, [, v]) => s + v, 0);
  return html`<div class="plot" ref=${el} role="img" aria-label=${label + ' over time: ' + data.now.length + ' points, peak ' + fmtNum(Math.max(0, ...data.now.map(([, v]) => v)))}></div>
    ${typeof window.uPlot !== 'function' ? html`<p class="muted">Chart library missing; total ${fmtNum(total)}.</p>` : null}`;
}

function Breakdown({ ctx, title, tabs, onPick }) {
  const [tab, setTab] = useState(tabs[0][0]);
  const dim = dimension(tab);
  const [state] = useLoad(async () => {
    const r = await query(ctx, {
      metrics: ['visitors'],
      date_range: ctx.period.api,
      dimensions: [dim.api],
      filters: ctx.apiFilters,
      order_by: [['visitors', 'desc']],
      pagination: { limit: 10 },
    });
    return r.results.map((x) => {
      const raw = x.dimensions[0];
      const none = raw == null || raw === '' || raw === '(none)';
      return { raw, value: x.metrics[0], label: none ? '(none)' : tab === 'country' ? countryLabel(raw) : raw, text: tab === 'country' ? countryName(raw) : raw, clickable: !none };
    });
  }, [ctx.key, tab]);
  const id = 'bd-' + title.toLowerCase().replace(/\W+/g, '-');
  return html`<section class="card panel" aria-labelledby=${id} data-panel=${title.toLowerCase()}>
    <div class="card-head"><h2 id=${id}>${title}</h2>
      <div class="seg" role="group" aria-label=${title + ' breakdown'}>
        ${tabs.map(([k, l]) => html`<button type="button" class=${k === tab ? 'active' : ''} aria-pressed=${k === tab ? 'true' : 'false'} onClick=${() => setTab(k)}>${l}</button>`)}
      </div></div>
    <div class="row-head muted small"><span>${dim.label}</span><span>Visitors</span></div>
    ${state.error ? html`<${ErrorNote} error=${state.error} what=${title} />` : state.data ? html`<${Rows} rows=${state.data} onPick=${onPick(tab)} metricLabel="visitors" />` : html`<${Loading} />`}
  </section>`;
}

function ConversionsPanel({ ctx, conv, onPick }) {
  const report = conv.data && conv.data.now;
  const all = report ? listOf(report.conversions, 'conversions') : [];
  // Changes against the comparison period, as on the top stats: visitors in %, the rate in points.
  const compared = !!(ctx.period.compare && report && report.comparison);
  const delta = (c, key, points) => {
    const ch = c.comparison && c.comparison.change;
    const before = c.comparison && (points ? fmtPct(c.comparison.rate) : fmtNum(c.comparison.visitors));
    return html`<span class="value delta" data-change=${key} title=${ch ? 'Before: ' + before : null}>${ch ? html`<${Change} value=${ch[key]} points=${points} />` : null}</span>`;
  };
  const group = (kind, title) => {
    const list = all.filter((c) => c.kind === kind);
    if (!list.length) return null;
    return html`<h3 class="group">${title}</h3>
      <ul class="rows conv">
        ${list.map((c) => html`<li><button type="button" class="row" data-value=${c.name} onClick=${() => onPick(c.name)}
            aria-label=${'Filter by conversion ' + c.name + ': ' + c.visitors + ' unique, ' + fmtPct(c.rate)}>
          <span class="bar" style=${'width:' + Math.max(0.5, Math.min(100, c.rate || 0)).toFixed(2) + '%'} aria-hidden="true"></span>
          <span class="label">${c.name}${c.revenue ? html` <span class="muted small">· ${fmtMoney(c.revenue.total, c.revenue.currency)}</span>` : null}</span>
          <span class="value" title=${c.conversions + ' conversions in total'}>${fmtNum(c.visitors)}</span>
          ${compared ? delta(c, 'visitors', false) : null}
          <span class="value rate">${fmtPct(c.rate)}</span>
          ${compared ? delta(c, 'rate', true) : null}
        </button></li>`)}
      </ul>`;
  };
  return html`<section class="card panel" aria-labelledby="conv-h" data-panel="conversions">
    <div class="card-head"><h2 id="conv-h">Conversions</h2>
      ${ctx.shared ? null : html`<${Link} class="small" href=${urlOf({ ...ctx.loc, view: 'settings', section: 'conversions' })}>Manage</${Link}>`}</div>
    ${conv.error ? html`<${ErrorNote} error=${conv.error} what="Conversions" />` : !report ? html`<${Loading} />` : !all.length
      ? html`<p class="muted empty">No conversions defined. ${ctx.shared ? null : html`<${Link} href=${urlOf({ ...ctx.loc, view: 'settings', section: 'conversions' })}>Add some from a template</${Link}>.`}</p>`
      : html`<div class="row-head muted small"><span>Conversion</span><span>${compared ? 'Unique · change · CR · change' : 'Unique · CR'}</span></div>
        ${group('macro', 'Macro (the goal)')}${group('micro', 'Micro (steps towards it)')}`}
  </section>`;
}

/** Trigger conditions that are not custom properties. */
const BUILTIN_FIELDS = ['engaged', 'scroll', 'scroll_depth', 'revenue', 'value', 'path', 'page', 'url', 'referrer', 'source', 'channel', 'country', 'device', 'browser', 'os'];

/** Custom properties: the keys named in conversion triggers are offered, any key can be typed. */
function PropsPanel({ ctx, defs, onPick }) {
  // Queried once the panel scrolls into view: it sits below the fold and is rarely needed first.
  const box = useRef(null);
  const [seen, setSeen] = useState(typeof IntersectionObserver !== 'function');
  useEffect(() => {
    if (seen || !box.current) return;
    const io = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && setSeen(true), { rootMargin: '200px' });
    io.observe(box.current);
    return () => io.disconnect();
  }, [seen]);
  const suggestions = useMemo(() => {
    const keys = new Set();
    const list = defs.data ? listOf(defs.data, 'conversions') : [];
    for (const c of list) for (const m of String(c.trigger || '').matchAll(/(?:where|and|or)\s+([A-Za-z_][\w-]*)\s*(?:>=|<=|!=|=|>|<|~)/g)) {
      if (!BUILTIN_FIELDS.includes(m[1])) keys.add(m[1]);
    }
    return [...keys];
  }, [defs.data]);
  const [key, setKey] = useState(ctx.loc.params.get('prop') || '');
  const chosen = key || suggestions[0] || '';
  const [state] = useLoad(async () => {
    if (!chosen || !seen) return null;
    const r = await query(ctx, {
      metrics: ['visitors'],
      date_range: ctx.period.api,
      dimensions: ['event:props:' + chosen],
      filters: ctx.apiFilters,
      order_by: [['visitors', 'desc']],
      pagination: { limit: 11 },
    });
    // "(none)" (visitors without the property) would dwarf every value; it is left out.
    return r.results.filter((x) => x.dimensions[0] !== '(none)').map((x) => ({ raw: x.dimensions[0], value: x.metrics[0], label: x.dimensions[0] }));
  }, [ctx.key, chosen, seen]);
  return html`<section class="card panel" aria-labelledby="props-h" data-panel="properties" ref=${box}>
    <div class="card-head"><h2 id="props-h">Properties</h2>
      <form class="inline" onSubmit=${(e) => { e.preventDefault(); setKey(e.target.elements.prop.value.trim()); }}>
        <label><span class="sr">Property name</span>
          <input name="prop" list="prop-keys" placeholder="property" value=${chosen} size="10" /></label>
        <datalist id="prop-keys">${suggestions.map((s) => html`<option value=${s} />`)}</datalist>
        <button type="submit" class="btn small">Show</button></form></div>
    ${!chosen ? html`<p class="muted empty">Type a custom property name (sent with events as <code>props</code>).</p>`
      : state.error ? html`<${ErrorNote} error=${state.error} what="Properties" />`
      : state.data ? html`<${Rows} rows=${state.data} onPick=${onPick('prop:' + chosen)} metricLabel="visitors" />` : html`<${Loading} />`}
  </section>`;
}

// ---- funnels ------------------------------------------------------------------------------

const BREAKDOWNS = [
  ['', 'No breakdown'], ['channel', 'Channel'], ['source', 'Source'], ['device', 'Device'], ['country', 'Country'],
  ['browser', 'Browser'], ['os', 'OS'], ['utm_source', 'UTM source'], ['utm_medium', 'UTM medium'], ['utm_campaign', 'UTM campaign'],
];

function FunnelsView({ ctx }) {
  const { loc, site } = ctx;
  const period = resolvePeriod(loc.params, ctx.tz);
  const filters = readFilters(loc.params);
  const [list] = useLoad(() => get('/api/sites/' + enc(site) + '/funnels'), [site]);
  const funnels = list.data ? listOf(list.data, 'funnels') : [];
  const name = loc.params.get('funnel') || (funnels[0] && funnels[0].name) || '';
  const by = loc.params.get('by') || '';
  const [report] = useLoad(async () => {
    if (!name) return null;
    let url = '/api/sites/' + enc(site) + '/reports/funnels/' + enc(name) + '?range=' + enc(period.report);
    if (period.compare) url += '&compare=' + enc(period.compare.report);
    if (by) url += '&by=' + enc(by) + '&limit=8';
    return get(url + reportFilters(filters));
  }, [site, name, by, period.report, period.compare && period.compare.report, JSON.stringify(filters)]);
  const go = (changes) => navigate(urlOf(withParams(loc, changes)));
  return html`<h1 class="sr">Funnels of ${site}</h1>
    <${Controls} ctx=${ctx} period=${period} />
    <section class="card" aria-labelledby="funnel-h">
      <div class="card-head wrap"><h2 id="funnel-h">Funnel</h2>
        <div class="control-row">
          <label class="field"><span>Funnel</span>
            <select value=${name} onChange=${(e) => go({ funnel: e.target.value })} disabled=${!funnels.length}>
              ${funnels.map((f) => html`<option value=${f.name}>${f.name}</option>`)}
            </select></label>
          <label class="field"><span>Breakdown</span>
            <select value=${by} onChange=${(e) => go({ by: e.target.value || null })}>
              ${BREAKDOWNS.map(([k, l]) => html`<option value=${k}>${l}</option>`)}
            </select></label>
        </div></div>
      ${list.error ? html`<${ErrorNote} error=${list.error} what="The funnel list" />`
        : list.loading && !list.data ? html`<${Loading} />`
        : !funnels.length ? html`<p class="muted">No funnels yet. ${ctx.shared ? null : html`<${Link} href=${urlOf({ ...loc, view: 'settings', section: 'funnels' })}>Create one</${Link}>, or apply a template in the conversion settings.`}</p>`
        : report.error ? html`<${ErrorNote} error=${report.error} what="The funnel report" />`
        : report.data ? html`<${FunnelReport} r=${report.data} compare=${period.compare} />` : html`<${Loading} />`}
    </section>
    ${report.data && report.data.breakdown ? html`<${FunnelBreakdown} r=${report.data} by=${by} loc=${loc} />` : null}`;
}

function FunnelReport({ r, compare }) {
  const steps = listOf(r.steps, 'steps');
  const weakest = r.weakest && r.weakest.step;
  const changes = r.comparison ? listOf(r.comparison.changes, 'changes') : [];
  const opps = listOf(r.opportunities, 'opportunities');
  const value = r.value;
  const before = r.comparison && r.comparison.conversion_rate;
  return html`<div class="funnel-summary">
      <div class="big"><span class="tile-label">Overall conversion</span>
        <span class="tile-value" data-funnel-cr=${r.conversion_rate}>${fmtPct(r.conversion_rate)}</span>
        ${compare && before != null ? html`<span class="tile-change"><${Change} value=${r.comparison.conversion_rate_change_points} points /> <span class="muted small">from ${fmtPct(before)}</span></span>` : null}</div>
      <div class="big"><span class="tile-label">Entered</span><span class="tile-value">${fmtNum(steps[0] && steps[0].visitors)}</span></div>
      <div class="big"><span class="tile-label">Completed</span><span class="tile-value">${fmtNum(steps.length && steps[steps.length - 1].visitors)}</span></div>
      ${value && value.per_completion != null ? html`<div class="big"><span class="tile-label">Value per completion</span><span class="tile-value">${fmtMoney(value.per_completion, value.currency)}</span></div>` : null}
    </div>
    ${r.weakest ? html`<p class="callout" data-weakest=${r.weakest.from + ' → ' + r.weakest.to}>
      <strong>Weakest step:</strong> ${r.weakest.from} → ${r.weakest.to}: only ${fmtPct(r.weakest.rate)} continue.</p>` : null}
    <ol class="funnel" aria-label="Funnel steps">
      ${steps.map((s, i) => {
        const ch = changes.find((c) => c.step === s.step);
        const isWeak = s.step === weakest;
        return html`<li class=${'step' + (isWeak ? ' weakest' : '')} data-step=${s.step} data-label=${s.label}>
          ${i > 0 ? html`<div class="drop small" aria-label=${'From ' + steps[i - 1].label + ' to ' + s.label}>
            <span class=${isWeak ? 'rate weak' : 'rate'}>↓ ${fmtPct(s.rate_from_previous)} continue</span>
            <span class="muted">${fmtNum(s.dropped)} dropped (${fmtPct(s.dropped_percent)})</span>
            ${s.median_ms != null ? html`<span class="muted">median ${fmtDur(s.median_ms / 1000)} between steps</span>` : null}
            ${isWeak ? html`<span class="badge warn">Weakest step</span>` : null}
            ${ch && ch.rate_change_points != null ? html`<${Change} value=${ch.rate_change_points} points />` : null}
          </div>` : null}
          <div class="step-line">
            <span class="step-label"><span class="num">${s.step}</span> ${s.label}</span>
            <span class="step-bar"><span class="fill" style=${'width:' + Math.max(0.5, s.rate_from_start || 0).toFixed(2) + '%'}></span></span>
            <span class="step-count"><strong>${fmtNum(s.visitors)}</strong> <span class="muted small">${fmtPct(s.rate_from_start)}</span></span>
          </div>
        </li>`;
      })}
    </ol>
    ${opps.length ? html`<h3>Where to improve first</h3>
      <ol class="opps" aria-label="Opportunities, ranked">
        ${opps.map((o, i) => html`<li class=${i === 0 ? 'top' : ''}>
          <span><strong>${o.from} → ${o.to}</strong> <span class="muted small">(step ${o.step})</span></span>
          <span class="small">${fmtNum(o.lost)} lost${o.value != null && o.score != null ? html` · worth about ${fmtMoney(o.score, value && value.currency)} if recovered` : null}</span>
        </li>`)}
      </ol>` : null}`;
}

function FunnelBreakdown({ r, by, loc }) {
  const segs = listOf(r.breakdown.segments, 'segments');
  const labels = listOf(r.steps, 'steps').map((s) => s.label);
  const max = Math.max(0.01, ...segs.map((s) => s.conversion_rate || 0));
  const label = (BREAKDOWNS.find((b) => b[0] === by) || [0, by])[1];
  return html`<section class="card" aria-labelledby="fb-h">
    <div class="card-head"><h2 id="fb-h">By ${label.toLowerCase()}</h2></div>
    <div class="table-wrap"><table class="fb">
      <thead><tr><th scope="col">${label}</th><th scope="col">Entered</th><th scope="col">Conversion</th><th scope="col">Weakest step</th></tr></thead>
      <tbody>${segs.map((s) => {
        const st = listOf(s.steps, 'steps');
        return html`<tr>
          <th scope="row"><${Link} href=${urlOf(withFilter(loc, by, s.segment))} title=${'Filter by ' + s.segment}>${by === 'country' ? countryLabel(s.segment) : s.segment}</${Link}></th>
          <td>${fmtNum(st[0] && st[0].visitors)}</td>
          <td class="cr"><span class="mini"><span style=${'width:' + ((s.conversion_rate || 0) / max * 100).toFixed(1) + '%'}></span></span> ${fmtPct(s.conversion_rate)}</td>
          <td class="small">${s.weakest ? s.weakest.from + ' → ' + s.weakest.to + ' (' + fmtPct(s.weakest.rate) + ')' : '—'}</td>
        </tr>`;
      })}</tbody></table></div>
    <p class="muted small">${labels.join(' → ')}${r.breakdown.more ? ' · more segments exist; filter to see them' : ''}</p>
  </section>`;
}

// ---- realtime -----------------------------------------------------------------------------

function RealtimeView({ ctx }) {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const t = setInterval(() => setTick((n) => n + 1), 30000);
    return () => clearInterval(t);
  }, []);
  const [state] = useLoad(async () => {
    const to = new Date();
    const from = new Date(to.getTime() - 5 * 60000);
    const range = [from.toISOString().replace(/\.\d+Z$/, 'Z'), to.toISOString().replace(/\.\d+Z$/, 'Z')];
    const [total, pages, sources] = await Promise.all([
      query(ctx, { metrics: ['visitors', 'pageviews'], date_range: range }),
      query(ctx, { metrics: ['visitors'], date_range: range, dimensions: ['event:page'], order_by: [['visitors', 'desc']], pagination: { limit: 10 } }),
      query(ctx, { metrics: ['visitors'], date_range: range, dimensions: ['visit:source'], order_by: [['visitors', 'desc']], pagination: { limit: 5 } }),
    ]);
    const m = total.results[0] ? total.results[0].metrics : [0, 0];
    const rows = (r) => r.results.map((x) => ({ raw: x.dimensions[0], value: x.metrics[0], label: x.dimensions[0], clickable: false }));
    return { visitors: m[0], pageviews: m[1], pages: rows(pages), sources: rows(sources), at: to };
  }, [ctx.site, tick]);
  const d = state.data;
  return html`<h1 class="sr">Realtime on ${ctx.site}</h1>
    <section class="card realtime" aria-labelledby="rt-h" aria-live="polite">
      <div class="card-head"><h2 id="rt-h"><span class="pulse" aria-hidden="true"></span> Last 5 minutes</h2>
        <button type="button" class="btn small" onClick=${() => setTick((n) => n + 1)}>Refresh</button></div>
      ${state.error ? html`<${ErrorNote} error=${state.error} what="Realtime" />` : !d ? html`<${Loading} />` : html`
        <div class="tiles">
          <div class="tile" data-metric="realtime_visitors" data-value=${d.visitors}><span class="tile-label">Current visitors</span><span class="tile-value">${fmtNum(d.visitors)}</span></div>
          <div class="tile"><span class="tile-label">Pageviews</span><span class="tile-value">${fmtNum(d.pageviews)}</span></div>
        </div>
        <p class="muted small">Updated ${d.at.toLocaleTimeString()} · refreshes every 30 seconds.</p>`}
    </section>
    ${d ? html`<div class="grid">
      <section class="card panel" aria-labelledby="rtp-h"><div class="card-head"><h2 id="rtp-h">Current pages</h2></div>
        <${Rows} rows=${d.pages} metricLabel="visitors" /></section>
      <section class="card panel" aria-labelledby="rts-h"><div class="card-head"><h2 id="rts-h">Sources</h2></div>
        <${Rows} rows=${d.sources} metricLabel="visitors" /></section></div>` : null}`;
}

// ---- settings -----------------------------------------------------------------------------

const SECTIONS = [
  ['sites', 'Sites'], ['conversions', 'Conversions'], ['funnels', 'Funnels'], ['keys', 'API keys'], ['links', 'Shared links'], ['users', 'Users'],
];

function SettingsView({ ctx }) {
  const { loc } = ctx;
  const section = SECTIONS.some((s) => s[0] === loc.section) ? loc.section : 'sites';
  const Section = { sites: SitesSettings, conversions: ConversionsSettings, funnels: FunnelsSettings, keys: KeysSettings, links: LinksSettings, users: UsersSettings }[section];
  return html`<h1 class="sr">Settings</h1>
    <div class="settings">
      <nav class="side" aria-label="Settings">
        ${SECTIONS.map(([k, l]) => html`<${Link} href=${urlOf({ ...loc, view: 'settings', section: k })} class=${k === section ? 'active' : ''} aria-current=${k === section ? 'page' : null}>${l}</${Link}>`)}
      </nav>
      <div class="settings-body"><${Section} ctx=${ctx} /></div>
    </div>`;
}

/** A form's submit with a busy flag, an error line and a done callback. */
function useSubmit() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const submit = async (fn) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, submit };
}

function FormError({ error }) {
  return error ? html`<p class="error" role="alert">${error.message}${error.field ? html` <span class="muted">(${error.field})</span>` : null}</p>` : null;
}

function confirmDelete(what) {
  return window.confirm('Delete ' + what + '? This cannot be undone.');
}

function useReloadable(load, deps) {
  const [n, setN] = useState(0);
  const [state] = useLoad(load, deps.concat([n]));
  return [state, () => setN((x) => x + 1)];
}

function SitesSettings({ ctx }) {
  const [state, reload] = useReloadable(() => get('/api/sites'), []);
  const f = useSubmit();
  const zones = useMemo(() => {
    try {
      return Intl.supportedValuesOf('timeZone');
    } catch (_) {
      return ['UTC', 'Europe/Berlin', 'Europe/London', 'America/New_York'];
    }
  }, []);
  const add = (e) => {
    e.preventDefault();
    const form = e.target;
    f.submit(async () => {
      await call('POST', '/api/sites', { domain: form.elements.domain.value.trim(), timezone: form.elements.timezone.value });
      form.reset();
      reload();
    });
  };
  const remove = (domain) => confirmDelete('site ' + domain + ' and its data') && f.submit(async () => {
    await call('DELETE', '/api/sites/' + enc(domain));
    reload();
  });
  const sites = listOf(state.data, 'sites');
  return html`<section class="card"><h2>Sites</h2>
    ${state.error ? html`<${ErrorNote} error=${state.error} what="The site list" />` : state.loading && !state.data ? html`<${Loading} />` : html`
      <ul class="list">${sites.map((s) => html`<li><span><${Link} href=${urlOf({ ...ctx.loc, site: s.domain, view: 'overview', section: null })}><strong>${s.domain}</strong></${Link}>
        <span class="muted small"> ${s.timezone || ''}</span></span>
        ${ctx.admin ? html`<button type="button" class="btn danger small" onClick=${() => remove(s.domain)}>Delete</button>` : null}</li>`)}</ul>`}
    ${ctx.admin ? html`<form class="stack" onSubmit=${add}><h3>Add a site</h3>
      <label class="field"><span>Domain</span><input name="domain" required placeholder="shop.example" autocomplete="off" /></label>
      <label class="field"><span>Time zone</span><select name="timezone" value=${Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'}>${zones.map((z) => html`<option value=${z}>${z}</option>`)}</select></label>
      <${FormError} error=${f.error} /><button class="btn primary" disabled=${f.busy}>Add site</button>
      <p class="muted small">Then put the tracker on its pages: <code>${`<script defer data-domain="DOMAIN" src="${location.origin}/js/script.js"></script>`}</code></p></form>` : null}
  </section>`;
}

function ConversionsSettings({ ctx }) {
  const site = ctx.site;
  const [state, reload] = useReloadable(() => get('/api/sites/' + enc(site) + '/conversions'), [site]);
  const [templates] = useLoad(() => get('/api/templates'), []);
  const f = useSubmit();
  const [applied, setApplied] = useState(null);
  const add = (e) => {
    e.preventDefault();
    const el = e.target.elements;
    const body = { name: el.name.value.trim(), kind: el.kind.value, trigger: el.trigger.value.trim() };
    if (el.description.value.trim()) body.description = el.description.value.trim();
    f.submit(async () => {
      await call('POST', '/api/sites/' + enc(site) + '/conversions', body);
      e.target.reset();
      reload();
    });
  };
  const remove = (name) => confirmDelete('conversion ' + name) && f.submit(async () => {
    await call('DELETE', '/api/sites/' + enc(site) + '/conversions/' + enc(name));
    reload();
  });
  const apply = (id) => f.submit(async () => {
    await call('POST', '/api/sites/' + enc(site) + '/templates/' + enc(id));
    setApplied(id);
    reload();
  });
  const list = listOf(state.data, 'conversions');
  return html`<section class="card"><h2>Conversions of ${site}</h2>
    <p class="muted small">Micro conversions are the steps (product view, add to cart); macro conversions are the goal (purchase). Triggers: see docs/conversions.md.</p>
    ${state.error ? html`<${ErrorNote} error=${state.error} what="The conversions" />` : state.loading && !state.data ? html`<${Loading} />` : html`
      <ul class="list">${list.map((c) => html`<li><span><strong>${c.name}</strong> <span class=${'badge ' + c.kind}>${c.kind}</span><br />
        <code class="small">${c.trigger}</code></span>
        <button type="button" class="btn danger small" onClick=${() => remove(c.name)} aria-label=${'Delete conversion ' + c.name}>Delete</button></li>`)}
      ${!list.length ? html`<li class="muted">None yet.</li>` : null}</ul>`}
    <${FormError} error=${f.error} />
    <form class="stack" onSubmit=${add}><h3>Add a conversion</h3>
      <label class="field"><span>Name</span><input name="name" required placeholder="Signup" /></label>
      <label class="field"><span>Kind</span><select name="kind"><option value="micro">micro</option><option value="macro">macro</option></select></label>
      <label class="field"><span>Trigger</span><input name="trigger" required placeholder='event Signup  ·  pageview /pricing  ·  event "Add to Cart" where items >= 1' /></label>
      <label class="field"><span>Description (optional)</span><input name="description" /></label>
      <button class="btn primary" disabled=${f.busy}>Add conversion</button></form>
    <h3>Templates</h3>
    ${templates.error ? html`<${ErrorNote} error=${templates.error} what="Templates" />` : html`<ul class="list">
      ${listOf(templates.data, 'templates').map((t) => html`<li><span><strong>${t.business}</strong> <span class="muted small">goal: ${t.macro_goal} · ${listOf(t.conversions, 'conversions').length} conversions</span>
        ${applied === t.id ? html` <span class="badge ok">applied</span>` : null}</span>
        <button type="button" class="btn small" disabled=${f.busy} onClick=${() => apply(t.id)}>Apply</button></li>`)}</ul>`}
  </section>`;
}

function FunnelsSettings({ ctx }) {
  const site = ctx.site;
  const [state, reload] = useReloadable(() => get('/api/sites/' + enc(site) + '/funnels'), [site]);
  const f = useSubmit();
  const add = (e) => {
    e.preventDefault();
    const el = e.target.elements;
    const steps = el.steps.value.split('\n').map((s) => s.trim()).filter(Boolean).map((s) =>
      /^(pageview|event)\b/.test(s) ? { label: s.replace(/^pageview\s*$/, 'Visit'), trigger: s } : s);
    f.submit(async () => {
      await call('POST', '/api/sites/' + enc(site) + '/funnels', { name: el.name.value.trim(), window: el.window.value.trim() || 'session', order: el.order.value, steps });
      e.target.reset();
      reload();
    });
  };
  const remove = (name) => confirmDelete('funnel ' + name) && f.submit(async () => {
    await call('DELETE', '/api/sites/' + enc(site) + '/funnels/' + enc(name));
    reload();
  });
  const list = listOf(state.data, 'funnels');
  return html`<section class="card"><h2>Funnels of ${site}</h2>
    ${state.error ? html`<${ErrorNote} error=${state.error} what="The funnels" />` : state.loading && !state.data ? html`<${Loading} />` : html`
      <ul class="list">${list.map((fu) => html`<li><span><${Link} href=${urlOf({ ...ctx.loc, view: 'funnels', section: null, params: new URLSearchParams({ funnel: fu.name }) })}><strong>${fu.name}</strong></${Link}>
        <span class="muted small"> ${listOf(fu.steps, 'steps').map((s) => (typeof s === 'string' ? s : s.label)).join(' → ')} · ${fu.window} · ${fu.order}</span></span>
        <button type="button" class="btn danger small" onClick=${() => remove(fu.name)} aria-label=${'Delete funnel ' + fu.name}>Delete</button></li>`)}
      ${!list.length ? html`<li class="muted">None yet.</li>` : null}</ul>`}
    <${FormError} error=${f.error} />
    <form class="stack" onSubmit=${add}><h3>Add a funnel</h3>
      <label class="field"><span>Name</span><input name="name" required placeholder="Signup" /></label>
      <label class="field"><span>Steps, one per line: a conversion's name, or a trigger</span>
        <textarea name="steps" rows="4" required placeholder=${'pageview\nProduct View\nAdd to Cart\nPurchase'}></textarea></label>
      <label class="field"><span>Window</span><input name="window" value="session" /></label>
      <label class="field"><span>Order</span><select name="order"><option value="strict">strict</option><option value="sequence">sequence</option><option value="any">any</option></select></label>
      <button class="btn primary" disabled=${f.busy}>Add funnel</button></form>
  </section>`;
}

function KeysSettings() {
  const [state, reload] = useReloadable(() => get('/api/keys'), []);
  const f = useSubmit();
  const [created, setCreated] = useState(null);
  const add = (e) => {
    e.preventDefault();
    const el = e.target.elements;
    const scopes = [...e.target.querySelectorAll('input[name=scope]:checked')].map((x) => x.value);
    f.submit(async () => {
      const r = await call('POST', '/api/keys', { name: el.name.value.trim(), scopes });
      setCreated(r);
      e.target.reset();
      reload();
    });
  };
  const remove = (k) => confirmDelete('key ' + (k.name || k.id)) && f.submit(async () => {
    await call('DELETE', '/api/keys/' + enc(k.id));
    reload();
  });
  const keys = listOf(state.data, 'keys');
  const secret = created && (created.key || created.token || created.secret);
  return html`<section class="card"><h2>API keys</h2>
    <p class="muted small">Keys act with your rights, narrowed by their scopes. Send <code>Authorization: Bearer KEY</code>.</p>
    ${state.error ? html`<${ErrorNote} error=${state.error} what="The key list" />` : state.loading && !state.data ? html`<${Loading} />` : html`
      <ul class="list">${keys.map((k) => html`<li><span><strong>${k.name}</strong> <code class="small">${k.prefix ? k.prefix + '…' : ''}</code>
        <span class="muted small"> ${listOf(k.scopes, 'scopes').join(', ')}${k.owner ? ' · ' + k.owner : ''}${k.last_used_at ? ' · last used ' + new Date(k.last_used_at).toLocaleString() : ' · never used'}</span></span>
        <button type="button" class="btn danger small" onClick=${() => remove(k)} aria-label=${'Delete key ' + k.name}>Delete</button></li>`)}
      ${!keys.length ? html`<li class="muted">No keys.</li>` : null}</ul>`}
    ${secret ? html`<div class="callout ok" role="status"><strong>New key (shown only now):</strong> <code class="secret">${secret}</code></div>` : null}
    <${FormError} error=${f.error} />
    <form class="stack" onSubmit=${add}><h3>Create a key</h3>
      <label class="field"><span>Name</span><input name="name" required placeholder="reporting script" /></label>
      <fieldset><legend>Scopes</legend>
        ${['stats:read', 'definitions:write', 'sites:admin'].map((s) => html`<label class="check"><input type="checkbox" name="scope" value=${s} checked=${s === 'stats:read'} /> ${s}</label>`)}
      </fieldset>
      <button class="btn primary" disabled=${f.busy}>Create key</button></form>
  </section>`;
}

function LinksSettings({ ctx }) {
  const site = ctx.site;
  const [state, reload] = useReloadable(() => get('/api/sites/' + enc(site) + '/shared-links'), [site]);
  const f = useSubmit();
  const [created, setCreated] = useState(null);
  const linkUrl = (l) => l.url ? new URL(l.url, location.origin).href : l.token ? location.origin + '/share/' + l.token : null;
  const add = (e) => {
    e.preventDefault();
    const el = e.target.elements;
    const body = { name: el.name.value.trim() };
    if (el.password.value) body.password = el.password.value;
    f.submit(async () => {
      setCreated(await call('POST', '/api/sites/' + enc(site) + '/shared-links', body));
      e.target.reset();
      reload();
    });
  };
  const remove = (l) => confirmDelete('shared link ' + (l.name || l.id)) && f.submit(async () => {
    await call('DELETE', '/api/sites/' + enc(site) + '/shared-links/' + enc(l.id));
    reload();
  });
  const links = listOf(state.data, 'links').length ? listOf(state.data, 'links') : listOf(state.data, 'shared_links');
  return html`<section class="card"><h2>Shared links of ${site}</h2>
    <p class="muted small">Anyone with a link sees this site's reports (read only), without signing in; a password adds a lock.</p>
    ${state.error ? html`<${ErrorNote} error=${state.error} what="The shared links" />` : state.loading && !state.data ? html`<${Loading} />` : html`
      <ul class="list">${links.map((l) => html`<li><span><strong>${l.name}</strong>${l.protected || l.password_protected || l.has_password ? html` <span class="badge">password</span>` : null}<br />
        ${linkUrl(l) ? html`<a class="small" href=${linkUrl(l)}>${linkUrl(l)}</a>` : null}</span>
        <button type="button" class="btn danger small" onClick=${() => remove(l)} aria-label=${'Delete shared link ' + l.name}>Delete</button></li>`)}
      ${!links.length ? html`<li class="muted">No shared links.</li>` : null}</ul>`}
    ${created && linkUrl(created) ? html`<div class="callout ok" role="status"><strong>Link created:</strong> <a href=${linkUrl(created)} data-shared-link=${linkUrl(created)}>${linkUrl(created)}</a></div>` : null}
    <${FormError} error=${f.error} />
    <form class="stack" onSubmit=${add}><h3>Create a shared link</h3>
      <label class="field"><span>Name</span><input name="name" required placeholder="Marketing team" /></label>
      <label class="field"><span>Password (optional)</span><input name="password" type="password" autocomplete="new-password" /></label>
      <button class="btn primary" disabled=${f.busy}>Create link</button></form>
  </section>`;
}

function UsersSettings({ ctx }) {
  const [state, reload] = useReloadable(() => get('/api/users'), []);
  const f = useSubmit();
  const add = (e) => {
    e.preventDefault();
    const el = e.target.elements;
    f.submit(async () => {
      await call('POST', '/api/users', { email: el.email.value.trim(), password: el.password.value, role: el.role.value });
      e.target.reset();
      reload();
    });
  };
  const remove = (email) => confirmDelete('user ' + email) && f.submit(async () => {
    await call('DELETE', '/api/users/' + enc(email));
    reload();
  });
  const grant = (u, domain, on) => f.submit(async () => {
    const now = new Set(listOf(u.sites || u.grants, 'sites').map((g) => (typeof g === 'string' ? g : g.domain || g.site)));
    if (on) now.add(domain);
    else now.delete(domain);
    await call('PUT', '/api/users/' + enc(u.email) + '/grants', { sites: [...now] });
    reload();
  });
  const users = listOf(state.data, 'users');
  return html`<section class="card"><h2>Users</h2>
    <p class="muted small">Admins see and change everything; viewers read the sites granted to them.</p>
    ${state.error ? html`<${ErrorNote} error=${state.error} what="The user list" />` : state.loading && !state.data ? html`<${Loading} />` : html`
      <ul class="list">${users.map((u) => {
        const granted = listOf(u.sites || u.grants, 'sites').map((g) => (typeof g === 'string' ? g : g.domain || g.site));
        return html`<li class="user"><span><strong>${u.email}</strong> <span class="badge">${u.role}</span>
          ${u.role !== 'admin' ? html`<span class="grants small">${ctx.sites.map((s) => html`<label class="check"><input type="checkbox" checked=${granted.includes(s.domain)}
            onChange=${(e) => grant(u, s.domain, e.target.checked)} /> ${s.domain}</label>`)}</span>` : null}</span>
          ${u.email !== ctx.session.email ? html`<button type="button" class="btn danger small" onClick=${() => remove(u.email)} aria-label=${'Delete user ' + u.email}>Delete</button>` : null}</li>`;
      })}</ul>`}
    <${FormError} error=${f.error} />
    <form class="stack" onSubmit=${add}><h3>Add a user</h3>
      <label class="field"><span>Email</span><input name="email" type="email" required autocomplete="off" /></label>
      <label class="field"><span>Password (8+ characters)</span><input name="password" type="password" minlength="8" required autocomplete="new-password" /></label>
      <label class="field"><span>Role</span><select name="role"><option value="viewer">viewer</option><option value="admin">admin</option></select></label>
      <button class="btn primary" disabled=${f.busy}>Add user</button></form>
  </section>`;
}

const root = document.getElementById('app');
root.textContent = ''; // the shell's "Loading…" line
render(html`<${App} />`, root);
