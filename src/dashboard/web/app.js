// The metadial dashboard page: reads the JSON API (include/metadial/dashboard/api.h) and draws it
// with Chart.js (embedded into the program). Every name and value goes into the page as text
// (textContent, canvas text), never as HTML. Live: the page asks /api/changes every second and
// redraws what changed, without a reload.
//
// The same script draws a report (`metadial report`, include/metadial/dashboard/report.h): there
// the API's answers are in the file (the JSON script element md-report), and reportApi() answers
// from them (the table sorted, filtered and paged here); nothing is fetched.
'use strict';

const REPORT = (() => {
  const e = document.getElementById('md-report');
  if (!e) return null;
  const r = JSON.parse(e.textContent);
  // The table's rows come as columns and arrays of values: back to the objects /api/trials answers.
  const { columns, rows } = r.trials;
  r.trials = rows.map(v => Object.fromEntries(columns.map((c, i) => [c, v[i]])));
  return r;
})();

const POLL_MS = 1000;
// A large study's first drawing: the history from this many points (every improvement of the best
// among them, so its best-so-far line is exact), shown before the full payload is asked for.
const FIRST_POINTS = 500;
const IMPORTANCE_MS = 5000;
const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];
const STATE_COLOUR = { running: '#1f77b4', complete: '#9e9e9e', pruned: '#ff7f0e', failed: '#d62728' };

const view = {
  study: null,      // the study shown, or null for the list
  info: null,       // /api/study
  cursor: 0,
  sort: 'number',
  order: 'asc',
  offset: 0,
  limit: 50,
  state: '',
  q: '',
  detail: null,     // the number of the trial shown in detail
  importanceAt: 0,
  nextRedraw: 0,    // Date.now() before which a change is not redrawn (see poll)
  charts: {},
  busy: false,
  generation: 0,    // bumped on navigation: answers for an older page are dropped
};

function $(id) { return document.getElementById(id); }

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function fmt(v) {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return String(v);
    return Math.abs(v) >= 1e5 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(4) : v.toPrecision(6);
  }
  return String(v);
}

function ago(t) {
  if (!t) return '-';
  if (REPORT) return new Date(t * 1000).toISOString().slice(0, 19).replace('T', ' ') + ' UTC';  // a snapshot
  const s = Math.max(0, Date.now() / 1000 - t);
  if (s < 60) return Math.round(s) + ' s ago';
  if (s < 3600) return Math.round(s / 60) + ' min ago';
  if (s < 86400) return (s / 3600).toFixed(1) + ' h ago';
  return new Date(t * 1000).toISOString().slice(0, 16).replace('T', ' ');
}

async function api(path, params) {
  if (REPORT) return reportApi(path, params || {});
  const q = new URLSearchParams(params || {});
  const r = await fetch(path + '?' + q.toString(), { cache: 'no-store' });
  const j = await r.json();
  if (!r.ok) throw new Error(j.error || ('HTTP ' + r.status));
  return j;
}

function better(direction, a, b) { return direction === 'maximize' ? a > b : a < b; }

// ---------------------------------------------------------------- a report: the API from the file

const STATE_ORDER = ['running', 'complete', 'pruned', 'failed'];

function reportApi(path, q) {
  switch (path) {
    case '/api/study': return REPORT.study;
    case '/api/points': return REPORT.points;
    case '/api/curves': return REPORT.curves;
    case '/api/importance': return REPORT.importance;
    case '/api/trials': return reportTrials(q);
    case '/api/trial': return reportTrial(Number(q.number));
  }
  throw new Error('a report holds no ' + path);
}

// /api/trials over every row of the report, as the server sorts and filters them.
function reportTrials(q) {
  const states = q.state ? String(q.state).split(',') : [];
  const needle = String(q.q || '').toLowerCase();
  const sort = q.sort || 'number';
  const desc = q.order === 'desc';
  const param = sort.startsWith('param:') ? sort.slice(6) : null;
  const key = t => {
    if (param !== null) return t.params[param] === undefined ? null : t.params[param];
    if (sort === 'state') return STATE_ORDER.indexOf(t.state);
    if (sort === 'started') return t.started_at;
    return t[sort] === undefined ? null : t[sort];
  };
  // Numbers before strings (a categorical parameter), trials without the key last in either order.
  const cmp = (a, b) => typeof a === typeof b ? (a < b ? -1 : a > b ? 1 : 0) : (typeof a === 'number' ? -1 : 1);
  const rows = REPORT.trials.filter(t => (states.length === 0 || states.includes(t.state)) && (needle === '' ||
    [t.number, Object.entries(t.params).map(([k, v]) => k + '=' + v).join(', '), t.worker, t.fail_reason].join(' ')
      .toLowerCase().includes(needle)))
    .map(t => [key(t), t])
    .sort(([ka, a], [kb, b]) => {
      if ((ka === null) !== (kb === null)) return ka === null ? 1 : -1;
      const c = ka === null ? 0 : cmp(ka, kb);
      return c !== 0 ? (desc ? -c : c) : a.number - b.number;
    })
    .map(([, t]) => t);
  const offset = Number(q.offset || 0);
  const limit = Number(q.limit || 50);
  return { total: REPORT.trials.length, matched: rows.length, offset, limit, rows: rows.slice(offset, offset + limit) };
}

// /api/trial from the trial's row; its intermediate values if it is among the report's curves.
function reportTrial(number) {
  const t = REPORT.trials[number] && REPORT.trials[number].number === number ? REPORT.trials[number] :
    REPORT.trials.find(r => r.number === number);
  if (!t) throw new Error('the report holds no trial ' + number);
  const c = REPORT.curves.curves.find(r => r.number === number);
  return Object.assign({}, t, { intermediate: c ? { step: c.step, value: c.value } : { step: [], value: [] } });
}

// Resolves after the browser has painted what was drawn so far (or after 100 ms: a hidden tab
// runs no animation frames).
function nextPaint() {
  return new Promise(resolve => {
    let done = false;
    const finish = () => { if (!done) { done = true; setTimeout(resolve, 0); } };
    requestAnimationFrame(finish);
    setTimeout(finish, 100);
  });
}

function chart(id, config) {
  config.options = Object.assign({ animation: false, maintainAspectRatio: false, responsive: true }, config.options);
  const old = view.charts[id];
  if (old) {
    old.data = config.data;
    old.options = config.options;
    old.update('none');
    return old;
  }
  view.charts[id] = new Chart($(id), config);
  return view.charts[id];
}

function destroyCharts() {
  for (const c of Object.values(view.charts)) c.destroy();
  view.charts = {};
}

// ---------------------------------------------------------------- the list of studies

async function showStudies() {
  const gen = view.generation;
  const j = await api('/api/studies');
  if (gen !== view.generation) return;
  $('storage').textContent = j.storage;
  const body = $('studies').tBodies[0];
  body.replaceChildren();
  for (const s of j.studies) {
    const tr = document.createElement('tr');
    const name = el('td');
    const a = el('a', s.name);
    a.href = '#study=' + encodeURIComponent(s.name);
    name.appendChild(a);
    tr.appendChild(name);
    for (const v of [s.direction, s.sampler, s.objective]) tr.appendChild(el('td', v));
    for (const k of ['running', 'complete', 'pruned', 'failed']) tr.appendChild(el('td', s.counts[k], 'num'));
    tr.appendChild(el('td', fmt(s.best_value), 'num'));
    tr.appendChild(el('td', ago(s.last_activity)));
    body.appendChild(tr);
  }
  $('no-studies').hidden = j.studies.length > 0;
  document.body.dataset.studies = String(j.studies.length);
}

// ---------------------------------------------------------------- one study

function paramSpec(name) {
  return (view.info.space || []).find(p => p.name === name);
}

function numericOf(spec, v) {
  if (v === null || v === undefined) return null;
  if (spec && spec.type === 'categorical') return spec.choices.indexOf(v);
  return Number(v);
}

function drawHistory(p, historyOnly) {
  const dir = p.direction;
  const byFid = new Map();
  const best = [];
  let b = null;
  for (let i = 0; i < p.number.length; i++) {
    const f = p.fidelity[i];
    if (!byFid.has(f)) byFid.set(f, []);
    byFid.get(f).push({ x: p.number[i], y: p.value[i] });
    if (b === null || better(dir, p.value[i], b)) b = p.value[i];
    best.push({ x: p.number[i], y: b });
  }
  const datasets = [...byFid.keys()].sort((a, c) => a - c).map(f => ({
    type: 'scatter', label: 'fidelity ' + f, data: byFid.get(f), parsing: false,
    backgroundColor: PALETTE[f % PALETTE.length], pointRadius: 2.5,
  }));
  datasets.push({ type: 'line', label: 'best so far', data: best, parsing: false, borderColor: '#000', borderWidth: 1.5,
    pointRadius: 0, stepped: true, fill: false });
  chart('chart-history', { type: 'scatter', data: { datasets }, options: { normalized: true,
    scales: { x: { type: 'linear', title: { display: true, text: 'trial' } },
      y: { title: { display: true, text: 'value' } } } } });
  if (historyOnly) return;

  // Best against cumulative cost: the kept points in the order they finished (every improvement is kept).
  const order = p.number.map((_, i) => i).sort((i, k) => p.cum_cost[i] - p.cum_cost[k] || p.number[i] - p.number[k]);
  const costLine = [];
  b = null;
  for (const i of order) {
    if (b === null || better(dir, p.value[i], b)) b = p.value[i];
    costLine.push({ x: p.cum_cost[i], y: b });
  }
  chart('chart-cost', { type: 'line', data: { datasets: [{ label: 'best so far', data: costLine, parsing: false, borderColor: '#1f77b4',
    pointRadius: 1.5, stepped: true, fill: false }] }, options: {
    scales: { x: { type: 'linear', title: { display: true, text: 'cumulative cost' } },
      y: { title: { display: true, text: 'best value' } } } } });
}

function drawSlices(p) {
  const box = $('slices');
  const names = (view.info.space || []).map(s => s.name);
  if (box.dataset.params !== JSON.stringify(names)) {
    for (const id of Object.keys(view.charts)) {
      if (id.startsWith('slice-')) { view.charts[id].destroy(); delete view.charts[id]; }
    }
    box.replaceChildren();
    names.forEach((n, i) => {
      const fig = el('figure');
      fig.appendChild(el('figcaption', n));
      const div = el('div', null, 'chart');
      const c = el('canvas');
      c.id = 'slice-' + i;
      c.className = 'slice';
      div.appendChild(c);
      fig.appendChild(div);
      box.appendChild(fig);
    });
    box.dataset.params = JSON.stringify(names);
  }
  names.forEach((n, i) => {
    const spec = paramSpec(n);
    const data = [];
    const colours = [];
    for (let k = 0; k < p.number.length; k++) {
      const x = numericOf(spec, p.params[n][k]);
      if (x === null) continue;
      data.push({ x, y: p.value[k] });
      colours.push(PALETTE[p.fidelity[k] % PALETTE.length]);
    }
    const x = { title: { display: true, text: n } };
    if (spec && spec.type === 'categorical') {
      Object.assign(x, { type: 'linear', min: -0.5, max: spec.choices.length - 0.5,
        ticks: { stepSize: 1, callback: v => spec.choices[v] !== undefined ? spec.choices[v] : '' } });
    } else if (spec && spec.log) {
      x.type = 'logarithmic';
    } else {
      x.type = 'linear';
    }
    chart('slice-' + i, { type: 'scatter', data: { datasets: [{ label: n, data, parsing: false, backgroundColor: colours,
      pointRadius: 2.5 }] }, options: { plugins: { legend: { display: false } },
      scales: { x, y: { title: { display: true, text: 'value' } } } } });
  });
}

function drawParallel(p) {
  const specs = view.info.space || [];
  const axes = specs.map(s => s.name).concat(['value']);
  const n = p.number.length;
  // At most 300 lines: the best ones first, so that the picture shows where good trials lie.
  const idx = p.number.map((_, i) => i).sort((i, k) => better(p.direction, p.value[i], p.value[k]) ? -1 :
    better(p.direction, p.value[k], p.value[i]) ? 1 : 0).slice(0, 300);
  const lo = p.value.length ? Math.min(...p.value) : 0;
  const hi = p.value.length ? Math.max(...p.value) : 1;
  const scale = (spec, v) => {
    if (v === null || v === undefined) return null;
    if (spec.type === 'categorical') return spec.choices.length > 1 ? spec.choices.indexOf(v) / (spec.choices.length - 1) : 0.5;
    const t = spec.log ? x => Math.log(x) : x => x;
    const a = t(spec.low), b = t(spec.high);
    return b > a ? (t(Number(v)) - a) / (b - a) : 0.5;
  };
  const datasets = idx.map((i, r) => {
    const shade = Math.round(40 + 180 * (idx.length > 1 ? r / (idx.length - 1) : 0));
    const data = specs.map(s => scale(s, p.params[s.name][i]));
    data.push(hi > lo ? (p.value[i] - lo) / (hi - lo) : 0.5);
    return { label: 'trial ' + p.number[i], data, borderColor: `rgba(${shade},${shade},255,0.6)`, borderWidth: 1,
      pointRadius: 0, fill: false };
  });
  chart('chart-parallel', { type: 'line', data: { labels: axes, datasets }, options: {
    plugins: { legend: { display: false }, tooltip: { enabled: n < 2000 } },
    scales: { y: { min: 0, max: 1, title: { display: true, text: 'scaled to the range' } } } } });
}

async function drawCurves(gen) {
  const j = await api('/api/curves', { study: view.study });
  if (gen !== view.generation) return;
  const datasets = j.curves.map(c => ({
    label: 'trial ' + c.number + ' (' + c.state + ')',
    data: c.step.map((s, i) => ({ x: s, y: c.value[i] })), parsing: false,
    borderColor: STATE_COLOUR[c.state], borderWidth: 1, pointRadius: 0, fill: false,
  }));
  chart('chart-curves', { type: 'line', data: { datasets }, options: {
    plugins: { legend: { display: false } },
    scales: { x: { type: 'linear', title: { display: true, text: 'step' } },
      y: { title: { display: true, text: 'intermediate value' } } } } });
  $('curves-note').textContent = j.total_with_curves === 0 ? 'no trial reported intermediate values' :
    `${j.curves.length} of ${j.total_with_curves} trials with intermediate values (running ones first, then the best)`;
}

async function drawImportance(gen, pending) {
  const j = await (pending || api('/api/importance', { study: view.study }));
  if (gen !== view.generation) return;
  const ps = j.params.slice().sort((a, b) => b.importance - a.importance);
  chart('chart-importance', { type: 'bar', data: { labels: ps.map(p => p.param), datasets: [{ label: 'importance',
    data: ps.map(p => p.importance), backgroundColor: '#26a69a' }] }, options: { indexAxis: 'y',
    plugins: { legend: { display: false } }, scales: { x: { min: 0, max: 1 } } } });
  $('importance-note').textContent = j.n_trials === 0 ? 'needs at least 8 complete trials at one fidelity' :
    `${j.method}, on ${j.n_trials} complete trials at fidelity ${j.fidelity}: the share of the value's variance each parameter explains alone`;
}

const COLUMNS = [
  ['number', 'trial'], ['state', 'state'], ['value', 'value'], ['fidelity', 'fidelity'], ['cost', 'cost'],
  ['duration', 'seconds'], ['started', 'started'],
];

function tableHeader() {
  const row = $('trials').tHead.rows[0];
  row.replaceChildren();
  const cols = COLUMNS.concat((view.info.space || []).map(s => ['param:' + s.name, s.name])).concat([[null, 'worker'], [null, 'fail reason']]);
  for (const [key, label] of cols) {
    const th = el('th', label);
    if (key) {
      th.classList.add('sortable');
      th.dataset.sort = key;
      if (view.sort === key) th.classList.add(view.order === 'asc' ? 'sorted-asc' : 'sorted-desc');
      th.addEventListener('click', () => {
        if (view.sort === key) view.order = view.order === 'asc' ? 'desc' : 'asc';
        else { view.sort = key; view.order = 'asc'; }
        view.offset = 0;
        tableHeader();
        drawTable(view.generation).catch(showError);
      });
    }
    row.appendChild(th);
  }
}

async function drawTable(gen) {
  const j = await api('/api/trials', { study: view.study, offset: view.offset, limit: view.limit, sort: view.sort,
    order: view.order, state: view.state, q: view.q });
  if (gen !== view.generation) return;
  const body = $('trials').tBodies[0];
  body.replaceChildren();
  for (const t of j.rows) {
    const tr = document.createElement('tr');
    tr.dataset.number = String(t.number);
    tr.appendChild(el('td', t.number, 'num'));
    tr.appendChild(el('td', t.state));
    tr.appendChild(el('td', fmt(t.value), 'num'));
    tr.appendChild(el('td', t.fidelity, 'num'));
    tr.appendChild(el('td', fmt(t.cost), 'num'));
    tr.appendChild(el('td', t.duration.toFixed(2), 'num'));
    tr.appendChild(el('td', t.started_at ? new Date(t.started_at * 1000).toISOString().slice(11, 19) : '-'));
    for (const s of view.info.space || []) tr.appendChild(el('td', fmt(t.params[s.name]), 'num'));
    tr.appendChild(el('td', t.worker));
    tr.appendChild(el('td', t.fail_reason));
    tr.addEventListener('click', () => { view.detail = t.number; drawDetail(view.generation).catch(showError); });
    body.appendChild(tr);
  }
  const last = Math.min(j.offset + j.rows.length, j.matched);
  $('page-info').textContent = j.matched === 0 ? `no trial matches (of ${j.total})` :
    `${j.offset + 1}-${last} of ${j.matched}` + (j.matched !== j.total ? ` (of ${j.total})` : '');
  $('page-prev').disabled = j.offset === 0;
  $('page-next').disabled = last >= j.matched;
}

async function drawDetail(gen) {
  if (view.detail === null) return;
  const t = await api('/api/trial', { study: view.study, number: view.detail });
  if (gen !== view.generation) return;
  $('trial-detail').hidden = false;
  $('trial-title').textContent = `Trial ${t.number} (${t.state})`;
  const body = $('trial-fields').tBodies[0];
  body.replaceChildren();
  const rows = [['value', fmt(t.value)], ['fidelity', t.fidelity], ['cost', fmt(t.cost)],
    ['started', t.started_at ? new Date(t.started_at * 1000).toISOString() : '-'],
    ['finished', t.finished_at ? new Date(t.finished_at * 1000).toISOString() : '-'],
    ['seconds', t.duration.toFixed(3)], ['worker', t.worker]];
  for (const [k, v] of Object.entries(t.params)) rows.push(['param ' + k, fmt(v)]);
  if (t.fail_reason) rows.push(['fail reason', t.fail_reason]);
  rows.push(['intermediate values', t.n_intermediate]);
  for (const [k, v] of rows) {
    const tr = document.createElement('tr');
    tr.appendChild(el('th', k));
    tr.appendChild(el('td', v));
    body.appendChild(tr);
  }
  chart('chart-trial', { type: 'line', data: { datasets: [{ label: 'intermediate value',
    data: t.intermediate.step.map((s, i) => ({ x: s, y: t.intermediate.value[i] })), borderColor: '#1f77b4',
    pointRadius: 1.5, fill: false }] }, options: { scales: { x: { type: 'linear', title: { display: true, text: 'step' } } } } });
  drawLog(t.log);
}

// The tail of a command objective's log (stdout and stderr), as text.
function drawLog(log) {
  const box = $('trial-log');
  box.replaceChildren();
  if (!log) return;
  for (const [stream, label] of [['out', 'stdout'], ['err', 'stderr']]) {
    const l = log[stream];
    if (!l) continue;
    if (l.error) {
      box.appendChild(el('h3', `${label}: ${l.path}: ${l.error}`));
      continue;
    }
    box.appendChild(el('h3', `${label}: ${l.path}` + (l.truncated ? ` (its last ${l.lines.length} lines)` : '')));
    const pre = el('pre', l.lines.length ? l.lines.join('\n') : '(empty)');
    pre.dataset.stream = stream;
    box.appendChild(pre);
    pre.scrollTop = pre.scrollHeight;  // the end of the log in view
  }
}

function drawSummary() {
  const i = view.info;
  document.title = 'metadial: ' + i.name;
  $('storage').textContent = i.storage;
  $('study-name').textContent = i.name;
  const c = i.counts;
  const parts = [i.direction, (i.attrs && i.attrs.sampler) ? 'sampler ' + i.attrs.sampler : null,
    (i.attrs && i.attrs.objective) ? 'objective ' + i.attrs.objective : null,
    `${c.total} trials: ${c.running} running, ${c.complete} complete, ${c.pruned} pruned, ${c.failed} failed`,
    i.best ? `best ${fmt(i.best.value)} (trial ${i.best.number})` : 'no complete trial yet',
    'last activity ' + ago(i.last_activity)];
  $('study-summary').textContent = parts.filter(x => x).join(' · ');
}

async function refreshStudy() {
  const gen = view.generation;
  const firstTime = view.info === null;
  // The first time, the study and a small set of points are asked for at once, and the history is
  // drawn and painted from them before anything else (a study of 20,000 trials: about 500 points
  // instead of 2,000, and one round trip instead of two); then the full points and the rest.
  const [info, first] = await Promise.all([api('/api/study', { study: view.study }),
    firstTime && !REPORT ? api('/api/points', { study: view.study, max_points: FIRST_POINTS }) : null]);
  if (gen !== view.generation) return;
  view.info = info;
  drawSummary();
  if (firstTime) tableHeader();
  let p = first;
  if (first && first.number.length < first.total_complete) {
    performance.mark('md:first-points');
    drawHistory(first, true);
    performance.mark('md:first-history');
    await nextPaint();
    if (gen !== view.generation) return;
    p = null;
  }
  // The importance is asked for now, so that the server fits its forest (the slowest answer on a
  // large study; recomputed at most every few seconds) while the page draws the rest; drawn last.
  let importance = null;
  if (Date.now() - view.importanceAt > IMPORTANCE_MS || firstTime) {
    view.importanceAt = Date.now();
    importance = api('/api/importance', { study: view.study });
    importance.catch(() => {});  // its error is reported where it is awaited; this page may be left before
  }
  if (p === null) p = await api('/api/points', { study: view.study });
  if (gen !== view.generation) return;
  performance.mark('md:points');
  drawHistory(p);
  performance.mark('md:history');
  await drawTable(gen);
  performance.mark('md:table');
  await nextPaint();  // let the history and the table show before the other charts
  if (gen !== view.generation) return;
  drawSlices(p);
  performance.mark('md:slices');
  drawParallel(p);
  performance.mark('md:parallel');
  $('points-note').textContent = p.number.length < p.total_complete ?
    `charts show ${p.number.length} of ${p.total_complete} complete trials (every improvement of the best kept); the table holds them all` : '';
  await drawCurves(gen);
  if (view.detail !== null) await drawDetail(gen);
  if (importance) {
    await drawImportance(gen, importance);
    performance.mark('md:importance');
  }
  if (gen !== view.generation) return;
  view.cursor = info.cursor;
  document.body.dataset.cursor = String(info.cursor);
  document.body.dataset.trials = String(info.counts.total);
  document.body.dataset.complete = String(info.counts.complete);
}

function showError(e) {
  const box = $('study-error');
  box.textContent = String(e.message || e);
  box.hidden = false;
}

// ---------------------------------------------------------------- navigation and polling

async function poll() {
  if (view.busy) return;
  view.busy = true;
  try {
    if (view.study === null) {
      await showStudies();
    } else {
      const j = await api('/api/changes', { study: view.study, cursor: view.cursor });
      // A redraw that takes long (a large study changing all the time) waits twice its time before
      // the next, so that the page never takes more than about a third of a core; small studies,
      // drawn in tens of milliseconds, redraw at every poll.
      if ((j.changed.length > 0 || j.cursor !== view.cursor) && Date.now() >= view.nextRedraw) {
        const start = Date.now();
        await refreshStudy();
        view.nextRedraw = Date.now() + 2 * (Date.now() - start);
      }
      else if (Date.now() - view.importanceAt > IMPORTANCE_MS) drawSummary();
    }
    $('live').classList.remove('stale');
    $('live').textContent = 'live';
    $('study-error').hidden = true;
  } catch (e) {
    $('live').classList.add('stale');
    $('live').textContent = 'not updating: ' + (e.message || e);
  } finally {
    view.busy = false;
  }
}

function route() {
  view.generation++;
  destroyCharts();
  const m = /^#study=(.*)$/.exec(location.hash);
  view.study = REPORT ? REPORT.study.name : m ? decodeURIComponent(m[1]) : null;
  Object.assign(view, { info: null, cursor: 0, sort: 'number', order: 'asc', offset: 0, state: '', q: '', detail: null,
    importanceAt: 0, nextRedraw: 0, busy: false });
  $('filter-state').value = '';
  $('filter-text').value = '';
  $('slices').replaceChildren();
  delete $('slices').dataset.params;
  $('trial-detail').hidden = true;
  $('studies-view').hidden = view.study !== null;
  $('study-view').hidden = view.study === null;
  document.title = 'metadial dashboard';
  // The first drawing holds off the poll, so that the two do not draw at once.
  view.busy = true;
  const gen = view.generation;
  const first = view.study === null ? showStudies() : refreshStudy();
  first.catch(showError).finally(() => { if (gen === view.generation) view.busy = false; });
}

document.addEventListener('DOMContentLoaded', () => {
  $('filter-state').addEventListener('change', e => { view.state = e.target.value; view.offset = 0; drawTable(view.generation).catch(showError); });
  $('filter-text').addEventListener('input', e => { view.q = e.target.value; view.offset = 0; drawTable(view.generation).catch(showError); });
  $('page-prev').addEventListener('click', () => { view.offset = Math.max(0, view.offset - view.limit); drawTable(view.generation).catch(showError); });
  $('page-next').addEventListener('click', () => { view.offset += view.limit; drawTable(view.generation).catch(showError); });
  if (REPORT) {
    // A snapshot: no polling, no list of studies to go back to.
    $('home').textContent = 'metadial report';
    $('home').removeAttribute('href');
    $('live').textContent = 'report written ' + new Date(REPORT.generated_at * 1000).toISOString().slice(0, 19).replace('T', ' ') +
      ' UTC by metadial ' + REPORT.version;
    $('live').title = 'a snapshot of the study; `metadial dashboard` shows it live';
    $('live').classList.add('report');
    route();
    return;
  }
  window.addEventListener('hashchange', route);
  route();
  setInterval(poll, POLL_MS);
});
