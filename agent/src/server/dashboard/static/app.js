// vigil dashboard: plain ES module, no build step, no dependencies.
// Reads the agent's JSON API (same origin), polls for live updates, renders with DOM APIs
// only (never innerHTML with data), and keeps an optional bearer token in sessionStorage.

const params = new URLSearchParams(location.search);
const POLL_MS = Math.max(1, Number(params.get('refresh') ?? 5) || 5) * 1000;
/** Bars in a history strip: at least this many (empty ones first), more when the agent keeps more history. */
const STRIP_MIN_SLOTS = 10;
const STRIP_MAX_SLOTS = 50;
const TOKEN_KEY = 'vigil.token';
/** Rows drawn at most (worst states first); the filters narrow the rest down. */
const MAX_ROWS = 500;
/** A poll whose data did not change redraws only this often (relative times). */
const REDRAW_MS = 15_000;

/** Display of each state: text is always shown; colour and icon only reinforce it. */
const STATES = {
  healthy: { label: 'healthy', icon: '✓' },
  ready: { label: 'ready', icon: '✓' },
  degraded: { label: 'degraded', icon: '!' },
  unhealthy: { label: 'unhealthy', icon: '✕' },
  unknown: { label: 'unknown', icon: '?' },
  pending: { label: 'not run yet', icon: '…' },
};
const STATE_ORDER = ['unhealthy', 'degraded', 'unknown', 'pending', 'ready', 'healthy'];

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

const view = {
  items: /** @type {any[]} */ ([]),
  summary: /** @type {any} */ (null),
  signal: /** @type {string | null} */ (null),
  previousStates: new Map(),
  loadedOnce: false,
  selected: /** @type {string | null} */ (null),
  opener: /** @type {HTMLElement | null} */ (null),
  timer: /** @type {number | undefined} */ (undefined),
  lastData: '',
  renderedAt: 0,
};

class AuthRequired extends Error {}

// ------------------------------------------------------------------ API

function token() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? '';
  } catch {
    return '';
  }
}

async function api(path, init = {}) {
  const headers = new Headers(init.headers);
  headers.set('Accept', 'application/json');
  const t = token();
  if (t) headers.set('Authorization', `Bearer ${t}`);
  const res = await fetch(path, { ...init, headers, cache: 'no-store' });
  if (res.status === 401 || res.status === 403) throw new AuthRequired(`${res.status}`);
  let body;
  const text = await res.text();
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = { error: text.trim() };
  }
  if (!res.ok) {
    const err = new Error(body && typeof body.error === 'string' ? body.error : `HTTP ${res.status}`);
    err.status = res.status;
    throw err;
  }
  return body;
}

// ------------------------------------------------------------------ model

function keyOf(item) {
  return `${item.namespace}/${item.name}`;
}

/** History, oldest first, whatever shape the API gives (full history or only the last result). */
function historyOf(item) {
  const h = Array.isArray(item.history) ? item.history : item.lastResult ? [item.lastResult] : [];
  return [...h].filter((r) => r && typeof r === 'object').sort((a, b) => time(a.finishedAt) - time(b.finishedAt));
}

function lastOf(item) {
  const h = historyOf(item);
  return item.lastResult ?? h[h.length - 1] ?? null;
}

function stateOf(item) {
  const s = item.state ?? lastOf(item)?.state;
  return typeof s === 'string' && s in STATES ? s : 'pending';
}

function reasonOf(item) {
  const last = lastOf(item);
  return item.reason ?? last?.reason ?? null;
}

function messageOf(item) {
  return item.message ?? lastOf(item)?.message ?? null;
}

function lastRunOf(item) {
  if (typeof item.lastRun === 'string' || typeof item.lastRun === 'number') return item.lastRun;
  if (item.lastRun && typeof item.lastRun === 'object') return item.lastRun.finishedAt ?? null;
  return lastOf(item)?.finishedAt ?? null;
}

function time(v) {
  if (v === null || v === undefined) return NaN;
  return typeof v === 'number' ? (v < 1e12 ? v * 1000 : v) : Date.parse(v);
}

// ------------------------------------------------------------------ formatting

const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

function relative(v) {
  const t = time(v);
  if (Number.isNaN(t)) return '—';
  const s = Math.round((t - Date.now()) / 1000);
  const a = Math.abs(s);
  if (a < 5) return s <= 0 ? 'just now' : 'now';
  if (a < 60) return rtf.format(s, 'second');
  if (a < 3600) return rtf.format(Math.round(s / 60), 'minute');
  if (a < 86400) return rtf.format(Math.round(s / 3600), 'hour');
  return rtf.format(Math.round(s / 86400), 'day');
}

function absolute(v) {
  const t = time(v);
  return Number.isNaN(t) ? '' : new Date(t).toLocaleString();
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c);
  return node;
}

function timeEl(v) {
  const t = time(v);
  if (Number.isNaN(t)) return el('span', { class: 'muted', text: '—' });
  return el('time', { datetime: new Date(t).toISOString(), title: absolute(v), text: relative(v) });
}

function badge(state) {
  const s = STATES[state] ?? STATES.unknown;
  return el('span', { class: `badge s-${state}`, 'data-state': state }, el('span', { 'aria-hidden': 'true', class: 'icon', text: s.icon }), ` ${s.label}`);
}

function strip(item) {
  const h = historyOf(item).slice(-STRIP_MAX_SLOTS);
  const counts = {};
  for (const r of h) counts[r.state] = (counts[r.state] ?? 0) + 1;
  const summary = h.length === 0
    ? 'No runs yet'
    : `Last ${h.length} result${h.length === 1 ? '' : 's'}: ${Object.entries(counts).map(([s, n]) => `${n} ${s}`).join(', ')}; newest ${h[h.length - 1].state}`;
  const ol = el('ol', { class: 'strip', role: 'img', 'aria-label': summary, title: summary });
  for (let i = h.length; i < STRIP_MIN_SLOTS; i++) ol.append(el('li', { class: 'slot empty' }));
  for (const r of h) {
    const state = r.state in STATES ? r.state : 'unknown';
    ol.append(el('li', { class: `slot s-${state}`, title: `${r.state} · ${absolute(r.finishedAt)}${r.reason ? ` · ${r.reason}` : ''}` }));
  }
  return ol;
}

// ------------------------------------------------------------------ rendering

function filters() {
  return {
    namespace: /** @type {HTMLSelectElement} */ ($('filter-namespace')).value,
    state: /** @type {HTMLSelectElement} */ ($('filter-state')).value,
    text: /** @type {HTMLInputElement} */ ($('filter-text')).value.trim().toLowerCase(),
  };
}

function matches(item, f) {
  if (f.namespace && item.namespace !== f.namespace) return false;
  if (f.state && stateOf(item) !== f.state) return false;
  if (f.text) {
    const hay = `${keyOf(item)} ${reasonOf(item) ?? ''} ${messageOf(item) ?? ''} ${item.promise ?? ''}`.toLowerCase();
    if (!hay.includes(f.text)) return false;
  }
  return true;
}

function render() {
  const f = filters();
  renderSummary();
  renderNamespaces(f.namespace);
  const rows = $('rows');
  const visible = view.items
    .filter((i) => matches(i, f))
    .sort((a, b) => STATE_ORDER.indexOf(stateOf(a)) - STATE_ORDER.indexOf(stateOf(b)) || keyOf(a).localeCompare(keyOf(b)));
  rows.replaceChildren(...visible.slice(0, MAX_ROWS).map(row));
  $('empty').hidden = visible.length > 0 || !view.loadedOnce;
  const more = $('more');
  more.hidden = visible.length <= MAX_ROWS;
  more.textContent = `Showing the first ${MAX_ROWS} of ${visible.length} matching checks (worst first); use the filters to see the others.`;
  $('caption').textContent = `Health checks: ${Math.min(visible.length, MAX_ROWS)} of ${view.items.length} shown`;
  view.renderedAt = Date.now();
}

function row(item) {
  const key = keyOf(item);
  const state = stateOf(item);
  const reason = reasonOf(item);
  const message = messageOf(item);
  let next;
  if (item.suspended) next = el('span', { class: 'muted', text: 'suspended' });
  else if (item.running) next = el('span', { class: 'running', text: 'running now' });
  else next = timeEl(item.nextRun);
  return el(
    'tr',
    { 'data-key': key, 'data-state': state },
    el('td', {}, badge(state)),
    el(
      'th',
      { scope: 'row', class: 'name' },
      el('a', { href: `#/${encodeURIComponent(item.namespace)}/${encodeURIComponent(item.name)}`, text: item.name }),
      el('span', { class: 'sub', text: `${item.namespace} · ${item.schedule ?? ''}` }),
    ),
    el('td', {}, strip(item)),
    el('td', {}, timeEl(lastRunOf(item))),
    el('td', {}, next),
    el('td', { class: 'reason' }, reason ? el('code', { text: reason }) : null, message ? el('span', { class: 'msg', title: message, text: ` ${message}` }) : null),
  );
}

function renderSummary() {
  const counts = {};
  for (const i of view.items) counts[stateOf(i)] = (counts[stateOf(i)] ?? 0) + 1;
  const current = filters().state;
  const list = $('summary');
  list.replaceChildren(
    ...STATE_ORDER.filter((s) => counts[s]).map((s) =>
      el(
        'li',
        {},
        el(
          'button',
          {
            type: 'button',
            class: `count s-${s}`,
            'aria-pressed': String(current === s),
            onclick: () => {
              const sel = /** @type {HTMLSelectElement} */ ($('filter-state'));
              sel.value = current === s ? '' : s;
              onFiltersChanged();
            },
          },
          el('span', { class: 'n', text: String(counts[s]) }),
          el('span', { text: ` ${STATES[s].label}` }),
        ),
      ),
    ),
  );
  const s = view.summary;
  const parts = [];
  if (s && typeof s === 'object') {
    if (s.destination) parts.push(`destination ${s.destination}`);
    parts.push(`${view.items.length} definition${view.items.length === 1 ? '' : 's'}`);
    if (s.store?.kind) parts.push(`store ${s.store.kind}${s.store.pending ? ` (${s.store.pending} pending)` : ''}`);
    if (s.invalidFiles) parts.push(`${s.invalidFiles} invalid file${s.invalidFiles === 1 ? '' : 's'}`);
  } else parts.push(`${view.items.length} definitions`);
  $('agent-line').textContent = parts.join(' · ');
  const signal = view.signal;
  const sig = $('signal');
  if (signal === 'PAUSE' || signal === 'STOP') {
    sig.hidden = false;
    sig.textContent = signal === 'PAUSE' ? 'Paused: no new runs start until the agent receives RUN.' : 'Stopping: the agent received STOP.';
  } else sig.hidden = true;
}

function renderNamespaces(selected) {
  const sel = /** @type {HTMLSelectElement} */ ($('filter-namespace'));
  const namespaces = [...new Set(view.items.map((i) => i.namespace))].sort();
  if (selected && !namespaces.includes(selected)) namespaces.push(selected);
  const existing = [...sel.options].slice(1).map((o) => o.value);
  if (existing.join('\n') === namespaces.join('\n')) return;
  sel.replaceChildren(el('option', { value: '', text: 'All namespaces' }), ...namespaces.map((n) => el('option', { value: n, text: n })));
  sel.value = selected;
}

// ------------------------------------------------------------------ detail view

async function openDetail(key, opener) {
  view.selected = key;
  if (opener) view.opener = opener;
  const dialog = /** @type {HTMLDialogElement} */ ($('detail'));
  $('detail-title').textContent = key;
  if (!dialog.open) {
    $('detail-body').replaceChildren(el('p', { class: 'muted', text: 'Loading…' }));
    dialog.showModal();
  }
  await refreshDetail();
}

async function refreshDetail() {
  const key = view.selected;
  if (!key) return;
  const [ns, name] = key.split('/');
  try {
    const d = await api(`api/v1/definitions/${encodeURIComponent(ns)}/${encodeURIComponent(name)}`);
    if (view.selected === key) renderDetail(d);
  } catch (err) {
    if (err instanceof AuthRequired) return showAuth();
    if (view.selected === key) $('detail-body').replaceChildren(el('p', { class: 'error', role: 'alert', text: `Cannot load ${key}: ${err.message}` }));
  }
}

function renderDetail(d) {
  const state = stateOf(d);
  const last = lastOf(d);
  const rows = [
    ['State', badge(state)],
    ['Reason', reasonOf(d) ? el('code', { text: reasonOf(d) }) : '—'],
    ['Message', messageOf(d) ?? '—'],
    ['Last run', timeEl(lastRunOf(d))],
    ['Duration', last?.durationMs !== undefined && last?.durationMs !== null ? `${last.durationMs} ms` : '—'],
    ['Next run', d.suspended ? 'suspended' : timeEl(d.nextRun)],
    ['Schedule', `${d.schedule ?? '—'}${d.timeZone ? ` (${d.timeZone})` : ''}${d.suspended ? ', suspended' : ''}`],
    ['Runs since start', d.stats ? `${d.stats.successCount} passed, ${d.stats.failureCount} failed${d.stats.consecutiveFailures ? ` (${d.stats.consecutiveFailures} in a row)` : ''}` : '—'],
    ['Promise', d.promise ?? '—'],
    ['Resource', d.resource ?? '—'],
    ['Record', d.record ?? '—'],
    ['File', d.file ?? '—'],
  ];
  const dl = el('dl', { class: 'facts' }, ...rows.flatMap(([k, v]) => [el('dt', { text: k }), el('dd', {}, v)]));
  const warnings = Array.isArray(d.warnings) && d.warnings.length > 0
    ? el('div', { class: 'warnings' }, el('h3', { text: 'Warnings' }), el('ul', {}, ...d.warnings.map((w) => el('li', { text: String(w) }))))
    : null;
  const details = d.details ?? last?.details ?? null;
  const detailsBlock = el(
    'section',
    { 'aria-labelledby': 'details-title' },
    el('h3', { id: 'details-title', text: 'Details of the last record' }),
    details === null ? el('p', { class: 'muted', text: 'No record yet.' }) : el('pre', { class: 'details', tabindex: '0', text: JSON.stringify(details, null, 2) }),
  );
  const runStatus = el('p', { id: 'run-status', role: 'status', class: 'muted' });
  const runButton = el('button', {
    type: 'button',
    id: 'run-now',
    class: 'primary',
    text: 'Run now',
    onclick: async () => {
      runStatus.textContent = 'Requesting a run…';
      try {
        const r = await api(`api/v1/definitions/${encodeURIComponent(d.namespace)}/${encodeURIComponent(d.name)}/run`, { method: 'POST' });
        runStatus.textContent = `Run ${r?.runId ?? ''} queued; the result appears here when it finishes.`;
      } catch (err) {
        if (err instanceof AuthRequired) {
          runStatus.textContent = 'Running a check needs a token.';
          showAuth();
        } else runStatus.textContent = `Cannot run: ${err.message}`;
      }
    },
  });
  const runs = historyOf(d).reverse();
  const table = el(
    'table',
    { class: 'history' },
    el('caption', { text: 'Recent runs (newest first)' }),
    el('thead', {}, el('tr', {}, ...['Finished', 'Trigger', 'State', 'Duration', 'Reason'].map((h) => el('th', { scope: 'col', text: h })))),
    el(
      'tbody',
      {},
      ...runs.map((r) =>
        el(
          'tr',
          {},
          el('td', {}, timeEl(r.finishedAt)),
          el('td', { text: r.trigger ?? '—' }),
          el('td', {}, badge(r.state in STATES ? r.state : 'unknown')),
          el('td', { text: r.durationMs !== undefined && r.durationMs !== null ? `${r.durationMs} ms` : '—' }),
          el('td', {}, r.reason ? el('code', { text: r.reason }) : null, r.message ? ` ${r.message}` : null),
        ),
      ),
    ),
  );
  $('detail-body').replaceChildren(...[dl, el('div', { class: 'actions' }, runButton, runStatus), warnings, detailsBlock, table].filter((n) => n !== null));
}

function closeDetail() {
  const dialog = /** @type {HTMLDialogElement} */ ($('detail'));
  view.selected = null;
  if (dialog.open) dialog.close();
  if (location.hash) history.replaceState(null, '', location.pathname + location.search);
  view.opener?.focus();
}

function routeFromHash() {
  const m = /^#\/([^/]+)\/([^/]+)$/.exec(location.hash);
  if (!m) return;
  const key = `${decodeURIComponent(m[1])}/${decodeURIComponent(m[2])}`;
  const link = document.querySelector(`tr[data-key="${CSS.escape(key)}"] a`);
  void openDetail(key, link instanceof HTMLElement ? link : null);
}

// ------------------------------------------------------------------ auth

function showAuth() {
  $('auth').hidden = false;
  $('error').hidden = true;
  $('token').focus();
}

// ------------------------------------------------------------------ live updates

function announceChanges() {
  const changes = [];
  for (const i of view.items) {
    const k = keyOf(i);
    const s = stateOf(i);
    const before = view.previousStates.get(k);
    if (view.loadedOnce && before !== undefined && before !== s) changes.push(`${k} is now ${STATES[s].label} (was ${STATES[before]?.label ?? before})`);
    view.previousStates.set(k, s);
  }
  if (changes.length > 0) $('announcer').textContent = changes.join('. ');
}

async function refresh() {
  clearTimeout(view.timer);
  const started = performance.now();
  let nextMs = POLL_MS;
  try {
    const optional = (e) => (e instanceof AuthRequired ? Promise.reject(e) : null);
    const [defs, summary, signal] = await Promise.all([api('api/v1/definitions'), api('api/v1/status').catch(optional), api('api/v1/signal').catch(optional)]);
    // A large agent answers slowly: poll less often so that open pages cost it at most ~5 % of its time.
    nextMs = Math.max(POLL_MS, Math.min(60_000, Math.round((performance.now() - started) * 20)));
    const data = JSON.stringify([defs, summary, signal]);
    const unchanged = data === view.lastData && Date.now() - view.renderedAt < REDRAW_MS;
    view.lastData = data;
    view.items = Array.isArray(defs?.items) ? defs.items : Array.isArray(defs) ? defs : [];
    view.summary = summary;
    view.signal = typeof signal?.state === 'string' ? signal.state : null;
    announceChanges();
    view.loadedOnce = true;
    $('auth').hidden = true;
    $('error').hidden = true;
    $('live-dot').className = 'dot ok';
    $('updated').textContent = `Updated ${new Date().toLocaleTimeString()}`;
    if (!unchanged) render();
    if (view.selected) await refreshDetail();
    document.body.dataset.loaded = 'true';
  } catch (err) {
    $('live-dot').className = 'dot down';
    if (err instanceof AuthRequired) showAuth();
    else {
      $('error').hidden = false;
      $('error').textContent = `Cannot reach the agent: ${err.message}. Retrying every ${nextMs / 1000} s.`;
      $('updated').textContent = 'Not updated';
    }
  } finally {
    view.timer = setTimeout(refresh, nextMs);
  }
}

function onFiltersChanged() {
  const f = filters();
  const q = new URLSearchParams(location.search);
  for (const [k, v] of [['namespace', f.namespace], ['state', f.state], ['q', $('filter-text').value.trim()]]) {
    if (v) q.set(k, v);
    else q.delete(k);
  }
  const search = q.toString();
  history.replaceState(null, '', `${location.pathname}${search ? `?${search}` : ''}${location.hash}`);
  render();
}

function init() {
  // Filters come from the URL, so a filtered view can be bookmarked or shared.
  const ns = params.get('namespace');
  if (ns) renderNamespaces(ns);
  if (params.get('state')) /** @type {HTMLSelectElement} */ ($('filter-state')).value = params.get('state');
  if (params.get('q')) /** @type {HTMLInputElement} */ ($('filter-text')).value = params.get('q');
  $('filters').addEventListener('change', onFiltersChanged);
  $('filters').addEventListener('input', onFiltersChanged);
  $('filters').addEventListener('submit', (e) => e.preventDefault());
  $('auth-form').addEventListener('submit', (e) => {
    e.preventDefault();
    try {
      sessionStorage.setItem(TOKEN_KEY, /** @type {HTMLInputElement} */ ($('token')).value);
    } catch {
      /* storage disabled: the token is not kept */
    }
    /** @type {HTMLInputElement} */ ($('token')).value = '';
    void refresh();
  });
  $('rows').addEventListener('click', (e) => {
    const a = e.target instanceof Element ? e.target.closest('a[href^="#/"]') : null;
    if (!a) return;
    e.preventDefault();
    history.replaceState(null, '', a.getAttribute('href'));
    void openDetail(a.closest('tr').dataset.key, a);
  });
  $('detail-close').addEventListener('click', closeDetail);
  $('detail').addEventListener('close', () => {
    if (view.selected) closeDetail();
  });
  window.addEventListener('hashchange', routeFromHash);
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) void refresh();
  });
  void refresh().then(routeFromHash);
}

init();
