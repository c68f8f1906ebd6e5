/* Dango's web page: a small router over the JSON API (docs/api.md).
 * No inline script, no external code: everything comes from this server. */
'use strict';

const state = { csrf: null, timer: null, page: null, health: null };

/* ---- helpers ------------------------------------------------------------ */

function esc(v) {
  return String(v === null || v === undefined ? '' : v)
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const NUMBER = new Intl.NumberFormat('en-US');
function fmtNum(n) {
  if (n === null || n === undefined) return '—';
  return NUMBER.format(Number(n));
}

function ago(iso) {
  if (!iso) return 'never';
  const t = Date.parse(iso);
  if (isNaN(t)) return esc(iso);
  const s = Math.max(0, (Date.now() - t) / 1000);
  if (s < 45) return 'just now';
  if (s < 3600) return Math.round(s / 60) + 'm ago';
  if (s < 86400) return Math.round(s / 3600) + 'h ago';
  return Math.round(s / 86400) + 'd ago';
}

function ageText(seconds) {
  if (seconds === null || seconds === undefined) return 'never taken';
  const s = Math.round(seconds);
  if (s < 60) return s + 's old';
  if (s < 3600) return Math.round(s / 60) + 'm old';
  return Math.round(s / 3600) + 'h old';
}

function dur(sec) {
  if (sec === null || sec === undefined) return '—';
  if (sec < 60) return sec.toFixed(1) + 's';
  return Math.floor(sec / 60) + 'm ' + Math.round(sec % 60) + 's';
}

function badge(status, text) {
  return '<span class="badge ' + esc(status) + '">' + esc(text || status) + '</span>';
}

const PHASES = {
  starting: 'starting', lock_waiting: 'waiting for the lock', data_load: 'loading',
  dbt_started: 'running dbt', running: 'running', completed: 'completed', failed: 'failed',
};

async function api(method, path, body) {
  const opts = { method, headers: {}, credentials: 'same-origin' };
  if (method !== 'GET') {
    if (!state.csrf) await session();
    opts.headers['Content-Type'] = 'application/json';
    opts.headers['X-CSRF-Token'] = state.csrf || '';
    opts.body = JSON.stringify(body || {});
  }
  const r = await fetch(path, opts);
  let doc = null;
  try { doc = await r.json(); } catch (e) { doc = { error: 'bad answer from the server (' + r.status + ')' }; }
  if (r.status === 401) { location.href = '/login'; }
  doc._status = r.status;
  return doc;
}

async function session() {
  const s = await api('GET', '/api/session');
  state.csrf = s.csrf;
}

function $(sel) { return document.querySelector(sel); }
function main() { return $('#main'); }

function every(ms, fn) {
  stopTimer();
  state.timer = setInterval(fn, ms);
}
function stopTimer() { if (state.timer) clearInterval(state.timer); state.timer = null; }

/* A modal dialog; resolves true on OK. */
function dialog(title, html, okText, danger) {
  return new Promise(resolve => {
    const bd = $('#dialog-backdrop');
    $('#dialog-title').textContent = title;
    $('#dialog-body').innerHTML = html;
    const ok = $('#dialog-ok'), cancel = $('#dialog-cancel');
    ok.textContent = okText || 'OK';
    ok.className = 'btn ' + (danger ? 'danger' : 'primary');
    bd.hidden = false;
    const done = v => { bd.hidden = true; ok.onclick = cancel.onclick = null; resolve(v); };
    ok.onclick = () => done(true);
    cancel.onclick = () => done(false);
  });
}

/* ---- the busy banner (a writer holds the warehouse) ------------------------ */

async function refreshHealth() {
  const h = await api('GET', '/api/health');
  state.health = h;
  $('#project').textContent = h.project ? 'project ' + h.project : '';
  const b = $('#busy');
  if (h.warehouse && h.warehouse.busy) {
    b.hidden = false;
    b.textContent = 'A writer holds the warehouse (' + (h.warehouse.writer || 'another process') +
      '): tables and row counts are ' +
      (h.catalog && h.catalog.taken_at ? 'the snapshot taken ' + ago(h.catalog.taken_at) : 'not known yet (no snapshot taken)') + '.';
  } else {
    b.hidden = true;
  }
}

/* ---- Overview -------------------------------------------------------------- */

function sparkline(values) {
  const w = 220, h = 40, max = Math.max(1, ...values);
  const step = values.length > 1 ? w / (values.length - 1) : w;
  const pts = values.map((v, i) => (i * step).toFixed(1) + ',' + (h - 2 - (v / max) * (h - 6)).toFixed(1));
  return '<svg class="spark" width="' + w + '" height="' + h + '" viewBox="0 0 ' + w + ' ' + h + '">' +
    '<polyline fill="none" stroke="#d9467a" stroke-width="2" points="' + pts.join(' ') + '"/></svg>';
}

async function pageOverview() {
  const [src, runs, models, cat, ov] = await Promise.all([
    api('GET', '/api/sources'), api('GET', '/api/runs?limit=200'), api('GET', '/api/models'), api('GET', '/api/catalog'),
    api('GET', '/api/overview')]);
  const ss = src.sources || [];
  const count = st => ss.filter(s => s.status === st).length;
  const rs = runs.runs || [];
  const perDay = (ov.rows_per_day || []).map(d => d.rows);
  const ms = models.models || [];
  const failingModels = ms.filter(m => m.status === 'error').length;
  const last = rs.slice(0, 6).map(r =>
    '<tr><td><a href="/runs/' + esc(r.id) + '" data-nav>' + esc(r.kind) + ' ' + esc(r.target) + '</a></td><td>' +
    badge(r.status) + '</td><td>' + ago(r.started_at) + '</td><td class="num">' + fmtNum(r.rows) + '</td></tr>').join('');
  const drift = ov.drift || {};
  const next = (ov.next_runs || []).slice(0, 3).map(n =>
    '<div><a href="/schedules" data-nav>' + esc(n.schedule) + '</a> <span class="muted small">' + esc(n.next_run_local) + '</span></div>').join('');
  const lastSched = (ov.last_scheduled || [])[0];
  main().innerHTML =
    '<h1>Overview</h1><div class="cards">' +
    '<div class="panel card"><h3>Sources</h3><div class="big">' + ss.length + '</div><div>' +
      badge('synced', count('synced') + ' synced') + ' ' + badge('failed', count('failed') + ' failing') + ' ' +
      badge('never', count('never') + ' never') + (count('running') ? ' ' + badge('running', count('running') + ' running') : '') + '</div></div>' +
    '<div class="panel card"><h3>Models</h3><div class="big">' + ms.length + '</div><div>' +
      (failingModels ? badge('failed', failingModels + ' failing') : badge('success', 'none failing')) + '</div></div>' +
    '<div class="panel card" id="card-drift"><h3>Schema drift</h3><div class="big">' + fmtNum(drift.open_breaking || 0) + '</div><div>' +
      (drift.open_breaking ? '<a href="/governance" data-nav>' + badge('failed', 'breaking: ' + (drift.blocked_sources || []).join(', ')) + '</a>'
        : badge('success', 'no breaking drift')) +
      (drift.open > drift.open_breaking ? ' ' + badge('warn', (drift.open - drift.open_breaking) + ' additive') : '') + '</div></div>' +
    '<div class="panel card"><h3>Warehouse</h3><div class="big">' + fmtBytes(cat.size_bytes) + '</div><div class="muted small">' +
      (cat.schemas || []).length + ' schemas' + (cat.busy ? ' · snapshot ' + ageText(cat.age_seconds) : '') + '</div></div>' +
    '<div class="panel card"><h3>Rows loaded, 14 days</h3><div>' + sparkline(perDay) + '</div><div class="muted small">' +
      fmtNum(perDay.reduce((a, b) => a + b, 0)) + ' rows</div></div>' +
    '<div class="panel card" id="card-next"><h3>Next runs</h3>' +
      (next || '<div class="muted">' + (ov.schedules ? 'No schedule is enabled.' : 'No schedules yet: <code>dango schedule add</code>.') + '</div>') +
      (lastSched ? '<div class="small gap-above">last: <a href="/runs/' + esc(lastSched.id) + '" data-nav>' + esc(lastSched.target) + '</a> ' +
        badge(lastSched.status) + ' <span class="muted">' + ago(lastSched.started_at) + '</span></div>' : '') +
      (ov.scheduler && !ov.scheduler.running ? '<div class="muted small gap-above">Scheduler ' + esc(ov.scheduler.note || 'not running') + '</div>' : '') +
      '</div>' +
    '</div>' +
    '<h2>Last runs</h2>' + (rs.length ? '<table class="grid"><thead><tr><th>Run</th><th>Status</th><th>Started</th><th class="num">Rows</th></tr></thead><tbody>' + last + '</tbody></table>'
      : '<p class="muted">Nothing has run yet.</p>');
}

function fmtBytes(n) {
  if (!n) return '0 B';
  const u = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : n) + ' ' + u[i];
}

/* ---- Sources --------------------------------------------------------------- */

function sourceStatus(s) {
  let html = badge(s.status === 'running' ? 'running' : s.status, s.status === 'running' ? 'running' : s.status);
  if (s.status === 'running') {
    /* this source done while the sync goes on (other sources, dbt) */
    const loaded = s.source_status === 'completed';
    html += '<div class="phase" data-phase>' + esc(PHASES[s.phase] || s.phase || 'starting') + '</div>' +
      (loaded || s.rows_so_far ? '<div class="phase" data-so-far>' + (loaded ? 'loaded ' : '') + fmtNum(s.rows_so_far || 0) +
        ' rows' + (loaded ? '' : ' so far') + '</div>' : '');
  }
  if (s.error) html += '<div class="err">' + esc(s.error) + '</div>';
  return html;
}

/* a table's rows; "~" for a postgres warehouse's estimate of a large table */
function fmtRows(t) {
  return (t.rows_estimated ? '~' : '') + fmtNum(t.rows);
}

function tablesCell(s) {
  if (!s.tables.length) return '<span class="muted">no tables yet</span>';
  return '<div class="tables-list">' + s.tables.map(t =>
    '<span>' + esc(t.name) + ': <b data-rows="' + esc(t.name) + '">' + fmtRows(t) + '</b></span>').join('<br>') + '</div>';
}

function syncButton(s) {
  const dis = s.status === 'running' ? ' disabled' : '';
  return '<div class="split"><button class="btn primary" data-sync="' + esc(s.name) + '"' + dis + '>Sync Now</button>' +
    '<button class="btn primary caret" data-menu="' + esc(s.name) + '"' + dis + ' aria-label="more sync options">▾</button></div>';
}

function sourceRow(s) {
  return '<tr data-source="' + esc(s.name) + '"><td><a href="/sources/' + esc(s.name) + '" data-nav><b>' + esc(s.name) + '</b></a>' +
    (s.enabled ? '' : ' ' + badge('disabled')) +
    (s.description ? '<div class="muted small">' + esc(s.description) + '</div>' : '') + '</td>' +
    '<td class="type-mode">' + esc(s.type) + '<div class="mode">' + esc(s.mode) + '</div></td>' +
    '<td data-status>' + sourceStatus(s) + '</td>' +
    '<td>' + tablesCell(s) + '</td>' +
    '<td title="' + esc(s.last_sync || '') + '">' + ago(s.last_sync) + '</td>' +
    '<td class="muted small">' + (s.schedule ? s.schedule.split('; ').map(x => '<div class="nowrap">' + esc(x) + '</div>').join('') : '—') + '</td>' +
    '<td>' + syncButton(s) + '</td></tr>';
}

let sourcesCache = [];

async function pageSources() {
  const doc = await api('GET', '/api/sources');
  if (doc._status !== 200) { main().innerHTML = '<h1>Sources</h1><div class="errbox">' + esc(doc.error) + '</div>'; return; }
  sourcesCache = doc.sources || [];
  const rows = sourcesCache.map(sourceRow).join('');
  main().innerHTML = '<h1>Sources <span class="muted small">' + sourcesCache.length + ' configured</span></h1>' +
    (sourcesCache.length ? '<table class="grid" id="sources"><thead><tr><th>Source</th><th>Type</th><th>Status</th>' +
      '<th>Tables (rows)</th><th>Last sync</th><th>Schedule</th><th></th></tr></thead><tbody>' + rows + '</tbody></table>'
      : '<p class="muted">No sources yet. Add one with <code>dango source add</code>.</p>');
  wireSyncButtons(main());
  pollWhileRunning(() => sourcesCache.some(s => s.status === 'running'), refreshSourceRows);
}

async function refreshSourceRows() {
  const doc = await api('GET', '/api/sources');
  sourcesCache = doc.sources || [];
  const tbody = $('#sources tbody');
  if (!tbody) return;
  for (const s of sourcesCache) {
    const tr = tbody.querySelector('tr[data-source="' + CSS.escape(s.name) + '"]');
    if (!tr) continue;
    const fresh = document.createElement('tbody');
    fresh.innerHTML = sourceRow(s);
    tr.replaceWith(fresh.firstChild);
  }
  wireSyncButtons(tbody);
}

function pollWhileRunning(isRunning, refresh) {
  every(1000, async () => {
    if (!isRunning()) return;
    await refresh();
  });
}

function closeMenus() { document.querySelectorAll('.menu').forEach(m => m.remove()); }
document.addEventListener('click', e => { if (!e.target.closest('.menu') && !e.target.closest('[data-menu]')) closeMenus(); });

function wireSyncButtons(root) {
  root.querySelectorAll('[data-sync]').forEach(b => { b.onclick = () => startSync(b.dataset.sync, {}); });
  root.querySelectorAll('[data-menu]').forEach(b => {
    b.onclick = e => {
      e.stopPropagation();
      closeMenus();
      const m = document.createElement('div');
      m.className = 'menu';
      m.innerHTML = '<button data-act="inc">Incremental sync</button>' +
        '<button data-act="full">Full refresh…</button><button data-act="sel">Selected tables…</button>';
      b.parentNode.appendChild(m);
      const name = b.dataset.menu;
      m.querySelector('[data-act=inc]').onclick = () => { closeMenus(); startSync(name, {}); };
      m.querySelector('[data-act=full]').onclick = () => { closeMenus(); confirmFullRefresh(name); };
      m.querySelector('[data-act=sel]').onclick = () => { closeMenus(); selectTables(name); };
    };
  });
}

async function findSource(name) {
  let s = sourcesCache.find(x => x.name === name);
  if (!s) s = await api('GET', '/api/sources/' + encodeURIComponent(name));
  return s;
}

async function confirmFullRefresh(name) {
  const s = await findSource(name);
  const list = (s.tables || []).map(t => '<li><code>' + esc(s.schema + '.' + t.name) + '</code> — ' + fmtRows(t) + ' rows</li>').join('');
  const ok = await dialog('Full refresh of ' + name + '?',
    '<p>Every table of this source is reloaded from scratch into new tables, swapped in when the load succeeds. ' +
    'These tables will be replaced:</p><ul>' + (list || '<li class="muted">none loaded yet</li>') + '</ul>' +
    '<p class="muted small">A table that would lose over half its rows is kept as a backup (<code>dango db backups</code>). ' +
    'API sources fetch everything again, which costs time and quota.</p>', 'Full refresh', true);
  if (ok) startSync(name, { full_refresh: true });
}

async function selectTables(name) {
  const s = await findSource(name);
  const boxes = (s.tables || []).map(t => '<label><input type="checkbox" value="' + esc(t.name) + '" checked> ' + esc(t.name) + '</label>').join('');
  const ok = await dialog('Sync selected tables of ' + name, boxes || '<p class="muted">No tables known yet: sync the whole source first.</p>', 'Sync');
  if (!ok) return;
  const chosen = [...document.querySelectorAll('#dialog-body input:checked')].map(i => i.value);
  if (chosen.length) startSync(name, { select: chosen });
}

async function startSync(name, body) {
  const r = await api('POST', '/api/sources/' + encodeURIComponent(name) + '/sync', body);
  if (r._status !== 202 && r._status !== 409) {
    await dialog('Sync not started', '<div class="errbox">' + esc(r.error) + '</div>', 'OK');
    return;
  }
  if (state.page === 'sources') await refreshSourceRows();
  else if (state.page === 'source') route();
}

/* ---- one source ------------------------------------------------------------- */

function configHtml(v, depth) {
  if (v === null || typeof v !== 'object') return esc(v);
  if (Array.isArray(v)) return v.map(x => typeof x === 'object' ? '<div>' + configHtml(x, depth + 1) + '</div>' : esc(x)).join(', ');
  if ('env' in v && 'set' in v && Object.keys(v).length === 2)
    return '<code>$' + esc(v.env) + '</code> ' + (v.set ? badge('success', 'set') : badge('failed', 'not set'));
  return '<dl class="kv">' + Object.keys(v).map(k => '<dt>' + esc(k) + '</dt><dd>' + configHtml(v[k], depth + 1) + '</dd>').join('') + '</dl>';
}

function runsTable(runs, withTarget) {
  if (!runs.length) return '<p class="muted">No runs yet.</p>';
  return '<table class="grid"><thead><tr><th>Run</th>' + (withTarget ? '<th>What</th>' : '') +
    '<th>Status</th><th>Started</th><th>Duration</th><th class="num">Rows</th><th>Error</th></tr></thead><tbody>' +
    runs.map(r => '<tr><td><a href="/runs/' + esc(r.id) + '" data-nav class="mono">' + esc(r.id) + '</a></td>' +
      (withTarget ? '<td>' + esc(r.kind) + ' <b>' + esc(r.target) + '</b> <span class="muted small">' + esc(r.origin) + '</span></td>' : '') +
      '<td>' + badge(r.status) + (r.status === 'running' ? '<div class="phase">' + esc(PHASES[r.phase] || r.phase) + '</div>' : '') + '</td>' +
      '<td title="' + esc(r.started_at) + '">' + ago(r.started_at) + '</td><td>' + dur(r.duration_seconds) + '</td>' +
      '<td class="num">' + fmtNum(r.rows) + '</td><td>' + (r.error ? '<div class="err">' + esc(String(r.error).split('\n')[0]) + '</div>' : '') + '</td></tr>').join('') +
    '</tbody></table>';
}

async function pageSource(name) {
  const s = await api('GET', '/api/sources/' + encodeURIComponent(name));
  if (s._status !== 200) { main().innerHTML = '<div class="errbox">' + esc(s.error) + '</div>'; return; }
  sourcesCache = [s];
  const tables = s.tables.map(t => '<div class="panel gap-below"><b>' + esc(s.schema + '.' + t.name) + '</b> <span class="muted">' +
    fmtRows(t) + ' rows</span><table class="grid gap-above"><thead><tr><th>Column</th><th>Type</th></tr></thead><tbody>' +
    (t.columns || []).map(c => '<tr><td class="mono">' + esc(c.name) + '</td><td class="muted mono">' + esc(c.type) + '</td></tr>').join('') +
    '</tbody></table></div>').join('');
  main().innerHTML = '<h1>' + esc(s.name) + ' ' + sourceStatus(s) + ' <span class="push-right">' + syncButton(s) + '</span></h1>' +
    '<p class="muted">' + esc(s.type) + ' · ' + esc(s.mode) + ' · last sync ' + ago(s.last_sync) +
    (s.busy ? ' · tables from the snapshot (' + ageText(s.catalog_age_seconds) + ')' : '') + '</p>' +
    '<div class="two"><div><h2>Tables</h2>' + (tables || '<p class="muted">Nothing loaded yet.</p>') + '</div>' +
    '<div><h2>Configuration</h2><div class="panel">' + configHtml(s.config, 0) + '</div>' +
    '<h2>History</h2>' + runsTable(s.history || [], false) + '</div></div>';
  wireSyncButtons(main());
  pollWhileRunning(() => sourcesCache.some(x => x.status === 'running'), () => route(true));
}

/* ---- Runs ------------------------------------------------------------------- */

async function pageRuns() {
  const doc = await api('GET', '/api/runs?limit=200');
  const runs = doc.runs || [];
  main().innerHTML = '<h1>Runs</h1>' + runsTable(runs, true);
  pollWhileRunning(() => runs.some(r => r.status === 'running'), () => route(true));
}

async function pageRun(id) {
  const r = await api('GET', '/api/runs/' + encodeURIComponent(id));
  if (r._status !== 200) { main().innerHTML = '<div class="errbox">' + esc(r.error) + '</div>'; return; }
  const progress = r.progress ? Object.keys(r.progress).map(k => '<tr><td>' + esc(k) + '</td><td>' + badge(r.progress[k].status) +
    '</td><td class="num">' + fmtNum(r.progress[k].rows) + '</td><td>' + (r.progress[k].error ? '<div class="err">' + esc(r.progress[k].error) + '</div>' : '') + '</td></tr>').join('') : '';
  main().innerHTML = '<h1><span class="mono">' + esc(r.id) + '</span> ' + badge(r.status) + '</h1>' +
    '<dl class="kv panel"><dt>What</dt><dd>' + esc(r.kind) + ' <b>' + esc(r.target) + '</b> (' + esc(r.origin) + ')</dd>' +
    '<dt>Phase</dt><dd data-run-phase>' + esc(PHASES[r.phase] || r.phase) + '</dd>' +
    '<dt>Started</dt><dd>' + esc(r.started_at) + ' (' + ago(r.started_at) + ')</dd>' +
    '<dt>Duration</dt><dd>' + dur(r.duration_seconds) + '</dd><dt>Rows</dt><dd>' + fmtNum(r.rows) + '</dd>' +
    (r.trigger ? '<dt>Trigger</dt><dd>' + esc(r.trigger) + (r.attempt > 1 ? ' (attempt ' + esc(r.attempt) + ')' : '') +
      (r.scheduled_for ? ', scheduled for ' + esc(r.scheduled_for) : '') + '</dd>' : '') +
    (r.args ? '<dt>Command</dt><dd class="mono">dango ' + esc((r.args || []).join(' ')) + '</dd>' : '') + '</dl>' +
    (r.error ? '<h2>Error</h2><div class="errbox">' + esc(r.error) + '</div>' : '') +
    (progress ? '<h2>Sources</h2><table class="grid"><thead><tr><th>Source</th><th>Status</th><th class="num">Rows</th><th>Error</th></tr></thead><tbody>' + progress + '</tbody></table>' : '') +
    '<h2>Log</h2><pre class="log">' + esc(r.log || (r.origin === 'web' || r.origin === 'scheduler' ? '(no output yet)' :
      '(started outside the page: its output went to the terminal that ran it)')) + '</pre>';
  pollWhileRunning(() => r.status === 'running', () => route(true));
}

/* ---- Models ----------------------------------------------------------------- */

function modelStatus(m) {
  let h = badge(m.status === 'success' ? 'success' : m.status, m.status);
  if (m.status === 'error' && m.message) h += '<div class="err">' + esc(m.message) + '</div>';
  return h;
}

function modelRow(m) {
  const dis = m.status === 'running' ? ' disabled' : '';
  return '<tr data-model="' + esc(m.name) + '"><td><a href="/models/' + esc(m.name) + '" data-nav><b>' + esc(m.name) + '</b></a></td>' +
    '<td>' + esc(m.schema) + '</td><td>' + esc(m.materialized) + '</td><td class="num">' + (m.rows === null ? '<span class="muted">' + (m.materialized === 'view' ? 'view' : '—') + '</span>' : fmtNum(m.rows)) + '</td>' +
    '<td data-status>' + modelStatus(m) + '</td><td title="' + esc(m.last_run || '') + '">' + ago(m.last_run) + '</td>' +
    '<td class="nowrap"><button class="btn" data-run="' + esc(m.name) + '"' + dis + ' title="run this model">Run</button> ' +
    '<button class="btn" data-runplus="' + esc(m.name) + '"' + dis + ' title="run this model and everything downstream">Run+</button></td></tr>';
}

let modelsCache = [];
let modelsShown = new Map(); /* name -> its row's HTML as drawn */
const MODELS_FIRST = 60;

function drawModelRow(m) {
  const html = modelRow(m);
  modelsShown.set(m.name, html);
  return html;
}

function modelMatches(tr, q) {
  return !q || tr.dataset.model.toLowerCase().includes(q) || tr.children[1].textContent.toLowerCase().includes(q);
}

/* The first screen of rows is drawn with the table, the rest after it has
 * been painted: laying out 1,000 rows held the first screen back. The rest
 * takes each model's latest state (a poll may have brought a newer one) and
 * the filter typed meanwhile. */
async function pageModels() {
  const doc = await api('GET', '/api/models');
  if (doc._status !== 200) { main().innerHTML = '<h1>Models</h1><div class="errbox">' + esc(doc.error) + '</div>'; return; }
  const LAYER = { seed: 0, staging: 1, intermediate: 2, marts: 3, other: 4 };
  /* a plain comparison: localeCompare (ICU) took longer than the rows */
  const order = (doc.models || []).sort((a, b) => (LAYER[a.layer] - LAYER[b.layer]) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  modelsCache = order;
  modelsShown = new Map();
  main().innerHTML = '<h1>Models <span class="muted small">' + order.length + ' nodes</span></h1>' +
    (doc.hint ? '<p class="notice">' + esc(doc.hint) + '</p>' : '') +
    '<div class="toolbar"><input type="search" id="model-filter" placeholder="filter by name or schema" size="32"></div>' +
    '<table class="grid" id="models"><thead><tr><th>Model</th><th>Schema</th><th>Materialization</th><th class="num">Rows</th>' +
    '<th>Status</th><th>Last run</th><th></th></tr></thead><tbody>' + order.slice(0, MODELS_FIRST).map(drawModelRow).join('') + '</tbody></table>';
  const table = $('#models'), tbody = table.tBodies[0], f = $('#model-filter');
  /* one handler for every Run and Run+ button, those drawn later too */
  table.onclick = e => {
    const b = e.target.closest('button[data-run], button[data-runplus]');
    if (b && !b.disabled) runModel(b.dataset.run || b.dataset.runplus, !b.dataset.run);
  };
  f.oninput = () => {
    const q = f.value.toLowerCase();
    for (const tr of tbody.rows) tr.hidden = !modelMatches(tr, q);
  };
  pollWhileRunning(() => modelsCache.some(m => m.status === 'running'), refreshModelRows);
  /* the rest in the frame after the one that shows the first rows, in one
   * go: each insertion lays the whole table out again */
  const rest = () => {
    if (!tbody.isConnected) return;
    const latest = new Map(modelsCache.map(m => [m.name, m]));
    const q = f.value.toLowerCase(), from = tbody.rows.length;
    tbody.insertAdjacentHTML('beforeend', order.slice(MODELS_FIRST).map(m => drawModelRow(latest.get(m.name) || m)).join(''));
    for (let i = from; i < tbody.rows.length; i++) tbody.rows[i].hidden = !modelMatches(tbody.rows[i], q);
  };
  if (order.length > MODELS_FIRST) requestAnimationFrame(() => requestAnimationFrame(rest));
}

async function refreshModelRows() {
  const doc = await api('GET', '/api/models');
  modelsCache = doc.models || [];
  const tbody = $('#models tbody');
  if (!tbody) return;
  /* only the rows that changed (a run touches a few of 1,000) */
  const rows = new Map(Array.from(tbody.rows, tr => [tr.dataset.model, tr]));
  for (const m of modelsCache) {
    const tr = rows.get(m.name), html = modelRow(m);
    if (!tr || modelsShown.get(m.name) === html) continue;
    modelsShown.set(m.name, html);
    const fresh = document.createElement('tbody');
    fresh.innerHTML = html;
    fresh.firstChild.hidden = tr.hidden;
    tr.replaceWith(fresh.firstChild);
  }
}

function wireRunButtons(root) {
  root.querySelectorAll('[data-run]').forEach(b => { b.onclick = () => runModel(b.dataset.run, false); });
  root.querySelectorAll('[data-runplus]').forEach(b => { b.onclick = () => runModel(b.dataset.runplus, true); });
}

async function runModel(name, downstream) {
  const r = await api('POST', '/api/models/' + encodeURIComponent(name) + '/run', { downstream });
  if (r._status !== 202 && r._status !== 409) {
    await dialog('Run not started', '<div class="errbox">' + esc(r.error) + '</div>', 'OK');
    return;
  }
  if (state.page === 'models') await refreshModelRows();
  else route(true);
}

/* Where the columns come from when not from the warehouse snapshot. */
function columnsFrom(m) {
  if (m.columns_from === 'catalog.json')
    return '<p class="muted small" id="columns-from">From target/catalog.json (<code>dango docs generate</code>, ' +
      ago(m.catalog_json_generated_at) + '): the warehouse snapshot does not have this relation.</p>';
  if (m.columns_from === 'manifest' && m.columns.length)
    return '<p class="muted small" id="columns-from">Documented columns: their types show once the model is built.</p>';
  return '';
}

async function pageModel(name) {
  const m = await api('GET', '/api/models/' + encodeURIComponent(name));
  if (m._status !== 200) { main().innerHTML = '<div class="errbox">' + esc(m.error) + '</div>'; return; }
  modelsCache = [m];
  const link = n => n.resource_type === 'source' ? esc(n.name) :
    '<a href="/models/' + esc(n.name) + '" data-nav>' + esc(n.name) + '</a> ' + badge(n.status);
  main().innerHTML = '<h1>' + esc(m.name) + ' ' + modelStatus(m) + '<span class="push-right">' +
    '<button class="btn" data-run="' + esc(m.name) + '"' + (m.status === 'running' ? ' disabled' : '') + '>Run</button> ' +
    '<button class="btn" data-runplus="' + esc(m.name) + '"' + (m.status === 'running' ? ' disabled' : '') + '>Run+</button></span></h1>' +
    '<p class="muted">' + esc(m.schema + '.' + m.relation) + ' · ' + esc(m.materialized) + ' · ' + esc(m.path) + ' · last run ' + ago(m.last_run) +
    (m.rows !== null ? ' · ' + fmtNum(m.rows) + ' rows' : '') + '</p>' +
    (m.description ? '<p>' + esc(m.description) + '</p>' : '') +
    '<div class="two"><div><h2>Columns</h2>' + columnsFrom(m) + '<table class="grid"><thead><tr><th>Column</th><th>Type</th><th>Description</th></tr></thead><tbody>' +
    (m.columns.map(c => '<tr><td class="mono">' + esc(c.name) + '</td><td class="muted mono">' + esc(c.type) + '</td><td>' + esc(c.description) + '</td></tr>').join('') ||
      '<tr><td colspan="3" class="muted">not built yet</td></tr>') + '</tbody></table>' +
    '<h2>Tests</h2>' + (m.tests.length ? '<table class="grid"><thead><tr><th>Test</th><th>Column</th><th>Last result</th></tr></thead><tbody>' +
      m.tests.map(t => '<tr><td>' + esc(t.name) + '</td><td class="mono">' + esc(t.column || '') + '</td><td>' + badge(t.status) +
        (t.failures ? ' <span class="muted">' + fmtNum(t.failures) + ' failing rows</span>' : '') + '</td></tr>').join('') + '</tbody></table>'
      : '<p class="muted">No tests.</p>') +
    '</div><div><h2>Upstream</h2>' + (m.upstream.map(link).join('<br>') || '<span class="muted">none</span>') +
    '<h2>Downstream</h2>' + (m.downstream.map(link).join('<br>') || '<span class="muted">none</span>') + '</div></div>' +
    '<h2>SQL</h2><pre class="code">' + esc(m.raw_code) + '</pre>' +
    (m.compiled_code ? '<h2>Compiled SQL</h2><pre class="code">' + esc(m.compiled_code) + '</pre>' : '');
  wireRunButtons(main());
  pollWhileRunning(() => modelsCache.some(x => x.status === 'running'), () => route(true));
}

/* ---- Lineage ---------------------------------------------------------------- */

async function pageLineage() {
  const doc = await api('GET', '/api/lineage');
  main().innerHTML = '<h1>Lineage <span class="muted small">' + doc.nodes.length + ' nodes · ' + doc.edges.length + ' edges</span></h1>' +
    (doc.hint ? '<p class="notice">' + esc(doc.hint) + '</p>' : '') + '<div class="lineage-wrap" id="lineage"></div>';
  window.DangoLineage.render($('#lineage'), doc, node => {
    if (node.resource_type === 'source') return null;
    return '/models/' + encodeURIComponent(node.name);
  });
}

/* ---- Query ------------------------------------------------------------------ */

let lastResult = null;

function csvField(v) {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\n\r]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
}

function pageQuery() {
  const saved = sessionStorage.getItem('dango.sql') || 'SELECT table_schema, table_name FROM information_schema.tables ORDER BY 1, 2';
  main().innerHTML = '<h1>Query <span class="muted small">read-only: the warehouse and nothing else</span></h1>' +
    '<textarea class="sql" id="sql" spellcheck="false"></textarea>' +
    '<div class="toolbar gap-above"><button class="btn primary" id="run-sql">Run</button>' +
    '<label class="muted">row limit <input type="number" id="limit" value="1000" min="1" max="10000" class="narrow"></label>' +
    '<button class="btn" id="csv" disabled>Download CSV</button><span class="muted small">Ctrl+Enter runs</span><span id="qinfo" class="muted"></span></div>' +
    '<div id="result"></div>';
  const ta = $('#sql');
  ta.value = saved;
  const run = async () => {
    sessionStorage.setItem('dango.sql', ta.value);
    $('#qinfo').textContent = 'running…';
    const r = await api('POST', '/api/query', { sql: ta.value, limit: parseInt($('#limit').value, 10) || 1000 });
    if (r._status !== 200) {
      lastResult = null;
      $('#csv').disabled = true;
      $('#qinfo').textContent = '';
      $('#result').innerHTML = '<div class="errbox">' + esc(r.error) + '</div>';
      return;
    }
    lastResult = r;
    $('#csv').disabled = false;
    $('#qinfo').textContent = fmtNum(r.row_count) + ' rows' + (r.truncated ? ' (limit reached: more rows exist)' : '') + ' in ' + r.seconds.toFixed(3) + 's';
    $('#result').innerHTML = '<div class="scroll-x"><table class="grid"><thead><tr>' +
      r.columns.map(c => '<th' + (c.numeric ? ' class="num"' : '') + '>' + esc(c.name) + '<div class="muted small">' + esc(c.type) + '</div></th>').join('') +
      '</tr></thead><tbody>' + r.rows.map(row => '<tr>' + row.map((v, i) =>
        '<td class="' + (r.columns[i].numeric ? 'num ' : '') + 'mono">' + (v === null ? '<span class="muted">NULL</span>' : esc(typeof v === 'object' ? JSON.stringify(v) : v)) + '</td>').join('') + '</tr>').join('') +
      '</tbody></table></div>';
  };
  $('#run-sql').onclick = run;
  ta.onkeydown = e => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); run(); } };
  $('#csv').onclick = () => {
    if (!lastResult) return;
    const lines = [lastResult.columns.map(c => csvField(c.name)).join(',')]
      .concat(lastResult.rows.map(row => row.map(csvField).join(',')));
    const blob = new Blob([lines.join('\n') + '\n'], { type: 'text/csv' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = 'query.csv';
    document.body.appendChild(a);
    a.click();
    a.remove();
  };
}

/* ---- Schedules ---------------------------------------------------------------- */

const pendingRuns = {};   /* schedule -> id of its last run when Run now was pressed */

function scheduleLast(sc) {
  const r = sc.last_run;
  if (pendingRuns[sc.name] !== undefined && (!r || r.id === pendingRuns[sc.name]) && !sc.running)
    return badge('running', 'queued');
  if (!r) return '<span class="muted">never run</span>';
  const label = r.schedule_status === 'success' ? 'success' : r.schedule_status;
  return '<a href="/runs/' + esc(r.id) + '" data-nav>' + badge(r.status, label) + '</a> <span class="muted small" title="' + esc(r.started_at) + '">' +
    ago(r.started_at) + (r.trigger === 'manual' ? ' · run now' : '') + '</span>' +
    (r.rows !== null && r.rows !== undefined ? '<div class="small">' + fmtNum(r.rows) + ' rows</div>' : '') +
    (r.error ? '<div class="err">' + esc(String(r.error).split('\n')[0]) + '</div>' : '');
}

function scheduleRow(sc) {
  const busy = sc.running || pendingRuns[sc.name] !== undefined;
  return '<tr data-schedule="' + esc(sc.name) + '"><td><b>' + esc(sc.name) + '</b>' + (sc.enabled ? '' : ' ' + badge('disabled')) +
    '<div class="muted small">' + esc(sc.selection) + '</div></td>' +
    '<td>' + esc(sc.type) + '</td>' +
    '<td class="mono">' + esc(sc.cron) + (sc.timezone ? '<div class="muted small">' + esc(sc.timezone) + '</div>' : '') + '</td>' +
    '<td data-next>' + (sc.running ? badge('running', 'running') : sc.next_run_local ? esc(sc.next_run_local) : '<span class="muted">—</span>') + '</td>' +
    '<td data-last>' + scheduleLast(sc) + '</td>' +
    '<td class="nowrap"><button class="btn primary" data-runnow="' + esc(sc.name) + '"' + (busy ? ' disabled' : '') + '>Run now</button> ' +
    '<button class="btn" data-toggle="' + esc(sc.name) + '" data-enabled="' + (sc.enabled ? 1 : 0) + '">' + (sc.enabled ? 'Disable' : 'Enable') + '</button></td></tr>';
}

let schedulesCache = [];

async function pageSchedules() {
  const doc = await api('GET', '/api/schedules');
  if (doc._status !== 200) { main().innerHTML = '<h1>Schedules</h1><div class="errbox">' + esc(doc.error) + '</div>'; return; }
  schedulesCache = doc.schedules || [];
  const sch = doc.scheduler || {};
  main().innerHTML = '<h1>Schedules <span class="muted small">' + schedulesCache.length + ' in .dango/schedules.yml</span></h1>' +
    (sch.running ? '<p class="muted small">The scheduler runs in this server.</p>' : '<p class="notice">Scheduler ' + esc(sch.note || 'not running') +
      '. Run now still works (as <code>dango schedule run</code>).</p>') +
    (schedulesCache.length ? '<table class="grid" id="schedules"><thead><tr><th>Schedule</th><th>Type</th><th>Cron</th><th>Next run</th>' +
      '<th>Last result</th><th></th></tr></thead><tbody>' + schedulesCache.map(scheduleRow).join('') + '</tbody></table>'
      : '<p class="muted">No schedules yet. Add one with <code>dango schedule add</code>.</p>');
  wireScheduleButtons(main());
  every(1500, async () => {
    if (!schedulesCache.some(x => x.running) && !Object.keys(pendingRuns).length) return;
    await refreshScheduleRows();
  });
}

async function refreshScheduleRows() {
  const doc = await api('GET', '/api/schedules');
  schedulesCache = doc.schedules || [];
  for (const sc of schedulesCache) {
    const r = sc.last_run;
    if (pendingRuns[sc.name] !== undefined && !sc.running && r && r.id !== pendingRuns[sc.name] && r.status !== 'running')
      delete pendingRuns[sc.name];
  }
  const tbody = $('#schedules tbody');
  if (!tbody) return;
  for (const sc of schedulesCache) {
    const tr = tbody.querySelector('tr[data-schedule="' + CSS.escape(sc.name) + '"]');
    if (!tr) continue;
    const fresh = document.createElement('tbody');
    fresh.innerHTML = scheduleRow(sc);
    tr.replaceWith(fresh.firstChild);
  }
  wireScheduleButtons(tbody);
}

function wireScheduleButtons(root) {
  root.querySelectorAll('[data-runnow]').forEach(b => {
    b.onclick = async () => {
      const name = b.dataset.runnow;
      const sc = schedulesCache.find(x => x.name === name);
      pendingRuns[name] = sc && sc.last_run ? sc.last_run.id : null;
      b.disabled = true;
      const r = await api('POST', '/api/schedules/' + encodeURIComponent(name) + '/run', {});
      if (r._status !== 202) {
        delete pendingRuns[name];
        await dialog('Not started', '<div class="errbox">' + esc(r.error) + '</div>', 'OK');
      }
      await refreshScheduleRows();
    };
  });
  root.querySelectorAll('[data-toggle]').forEach(b => {
    b.onclick = async () => {
      const name = b.dataset.toggle, enable = b.dataset.enabled !== '1';
      const r = await api('POST', '/api/schedules/' + encodeURIComponent(name) + '/' + (enable ? 'enable' : 'disable'), {});
      if (r._status !== 200) await dialog('Not changed', '<div class="errbox">' + esc(r.error) + '</div>', 'OK');
      await refreshScheduleRows();
    };
  });
}

/* ---- Governance ---------------------------------------------------------------- */

function driftChange(e) {
  if (e.change === 'type_changed') return 'type changed <span class="mono">' + esc(e.old_type) + '</span> → <span class="mono">' + esc(e.new_type) + '</span>';
  if (e.change === 'column_removed') return 'column removed <span class="muted mono">(was ' + esc(e.old_type) + ')</span>';
  return 'column added <span class="mono">' + esc(e.new_type) + '</span>';
}

function driftPanel(s) {
  return '<div class="panel gap-below" data-drift="' + esc(s.source) + '"><div class="toolbar"><b>' + esc(s.source) + '</b> ' +
    (s.open_breaking ? badge('failed', s.open_breaking + ' breaking') : '') +
    (s.open > s.open_breaking ? badge('warn', (s.open - s.open_breaking) + ' additive') : '') +
    (s.blocks_models ? '<span class="muted small">dango run skips the models downstream until it is accepted</span>' : '') +
    '<span class="push-right"><button class="btn primary" data-accept="' + esc(s.source) + '">Accept</button></span></div>' +
    '<table class="grid"><thead><tr><th>Table</th><th>Column</th><th>Change</th><th>First seen</th></tr></thead><tbody>' +
    s.events.map(e => '<tr><td class="mono">' + esc(e.table) + '</td><td class="mono">' + esc(e.column) + '</td><td>' +
      (e.breaking ? badge('failed', 'breaking') + ' ' : badge('warn', 'additive') + ' ') + driftChange(e) + '</td>' +
      '<td title="' + esc(e.first_seen) + '">' + ago(e.first_seen) + '</td></tr>').join('') + '</tbody></table></div>';
}

function oauthState(c) {
  const cls = { valid: 'success', expiring: 'warn', expired: 'failed', needs_refresh: 'warn' }[c.state] || 'never';
  return badge(cls, c.state.replace('_', ' '));
}

function daysText(c) {
  if (c.refreshable) return '<span class="muted">renews itself</span>';
  if (c.days_to_expiry === null || c.days_to_expiry === undefined) return '<span class="muted">no expiry</span>';
  if (c.days_to_expiry < 0) return '<b class="bad">expired ' + (-c.days_to_expiry) + 'd ago</b>';
  return '<b>' + c.days_to_expiry + '</b> day' + (c.days_to_expiry === 1 ? '' : 's');
}

async function pageGovernance() {
  const [drift, oauth] = await Promise.all([api('GET', '/api/drift'), api('GET', '/api/oauth')]);
  const srcs = drift.sources || [], creds = oauth.credentials || [];
  main().innerHTML = '<h1>Governance</h1>' +
    '<h2>Open schema drift <span class="muted small">' + (drift.open_breaking || 0) + ' breaking, ' + (drift.open || 0) + ' open in all</span></h2>' +
    (drift._status !== 200 ? '<div class="errbox">' + esc(drift.error) + '</div>' :
      srcs.length ? '<div id="drift">' + srcs.map(driftPanel).join('') + '</div>' :
      '<p class="muted" id="no-drift">No open drift: every raw table matches its baseline.</p>') +
    '<h2>OAuth tokens</h2>' +
    (creds.length ? '<table class="grid" id="oauth"><thead><tr><th>Credential</th><th>Provider</th><th>Account</th><th>State</th>' +
      '<th>Expires in</th><th>Used by</th><th>Renew</th></tr></thead><tbody>' + creds.map(c =>
        '<tr data-cred="' + esc(c.name) + '"><td><b>' + esc(c.name) + '</b></td><td>' + esc(c.provider) + '</td><td>' + esc(c.account || '—') + '</td>' +
        '<td>' + oauthState(c) + '<div class="muted small">' + esc(c.expiry) + '</div></td><td data-days>' + daysText(c) + '</td>' +
        '<td>' + esc((c.sources || []).join(', ') || '—') + '</td><td class="mono small">' + esc(c.renew_command) + '</td></tr>').join('') +
      '</tbody></table>' : '<p class="muted">No OAuth credentials (<code>dango oauth setup PROVIDER</code> adds one).</p>') +
    ((oauth.errors || []).length ? '<div class="errbox gap-above">' + oauth.errors.map(e => esc(e.name + ': ' + e.error)).join('\n') + '</div>' : '');
  main().querySelectorAll('[data-accept]').forEach(b => {
    b.onclick = async () => {
      const name = b.dataset.accept;
      const s = srcs.find(x => x.source === name);
      const ok = await dialog('Accept the drift of ' + name + '?',
        '<p>The schema the last sync saw becomes the baseline of its tables' + (s && s.open_breaking ?
          ', and <code>dango run</code> builds the models downstream again. Check that they cope with:</p><p class="mono small">' +
          esc(s.summary || '') + '</p>' : '.</p>'), 'Accept');
      if (!ok) return;
      const r = await api('POST', '/api/drift/' + encodeURIComponent(name) + '/accept', {});
      if (r._status !== 200) await dialog('Not accepted', '<div class="errbox">' + esc(r.error) + '</div>', 'OK');
      route(true);
    };
  });
}

/* ---- router ----------------------------------------------------------------- */

async function route(keepTimer) {
  if (!keepTimer) stopTimer();
  const parts = location.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const top = parts[0] || 'overview';
  let page = top;
  try {
    if (top === 'overview') await pageOverview();
    else if (top === 'sources' && parts[1]) { page = 'source'; await pageSource(parts[1]); }
    else if (top === 'sources') await pageSources();
    else if (top === 'runs' && parts[1]) { page = 'run'; await pageRun(parts[1]); }
    else if (top === 'runs') await pageRuns();
    else if (top === 'models' && parts[1]) { page = 'model'; await pageModel(parts[1]); }
    else if (top === 'models') await pageModels();
    else if (top === 'lineage') await pageLineage();
    else if (top === 'schedules') await pageSchedules();
    else if (top === 'governance') await pageGovernance();
    else if (top === 'query') { if (!keepTimer) pageQuery(); }
    else main().innerHTML = '<p>No such page.</p>';
  } catch (e) {
    main().innerHTML = '<div class="errbox">The page could not load: ' + esc(e.message) + '</div>';
  }
  state.page = page;
  document.querySelectorAll('#nav a').forEach(a => a.classList.toggle('active', a.dataset.page === top));
  document.body.dataset.page = page;
}

document.addEventListener('click', e => {
  const a = e.target.closest('a[data-nav]');
  if (!a || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
  e.preventDefault();
  if (a.getAttribute('href') !== location.pathname) history.pushState(null, '', a.getAttribute('href'));
  route();
});
window.addEventListener('popstate', () => route());

document.addEventListener('DOMContentLoaded', async () => {
  route(); /* the page's own data first */
  session(); /* POSTs wait for it; pages need it not */
  refreshHealth();
  setInterval(refreshHealth, 5000);
});
