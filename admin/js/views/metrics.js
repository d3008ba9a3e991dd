// Delivery metrics and system health, refreshed on a timer.
import { ApiError } from '../lib/api.js';
import { h, replace } from '../lib/dom.js';
import { formatDuration, formatNumber, formatPercent, formatTime, successPercent } from '../lib/format.js';
import { toQuery } from '../lib/query.js';
import { badge, dataTable, empty, errorBox, field, kvList, section } from '../ui/components.js';

/** @typedef {import('../lib/context.js').Ctx} Ctx */
/** @typedef {import('../lib/api.js').Schemas} Schemas */

const WINDOWS = [
  ['', 'server default'],
  ['5m', 'last 5 minutes'],
  ['15m', 'last 15 minutes'],
  ['1h', 'last hour'],
  ['24h', 'last 24 hours'],
];
const INTERVALS = [
  [0, 'off'],
  [5, 'every 5 s'],
  [15, 'every 15 s'],
  [60, 'every minute'],
];

const stat = (/** @type {string} */ label, /** @type {string} */ value, /** @type {string} */ note = '') =>
  h(
    'div',
    { class: 'stat' },
    h('div', { class: 'stat-label' }, label),
    h('div', { class: 'stat-value' }, value),
    note ? h('div', { class: 'stat-note' }, note) : null,
  );

/**
 * @param {Record<string, number>} obj
 * @param {string} keyLabel
 * @param {string} caption
 */
function countsTable(obj, keyLabel, caption) {
  const rows = Object.entries(obj).sort((a, b) => b[1] - a[1]);
  return rows.length
    ? dataTable(
        [
          { label: keyLabel, render: (r) => r[0] },
          { label: 'Count', class: 'num', render: (r) => formatNumber(r[1], 0) },
        ],
        rows,
        caption,
      )
    : empty('None.');
}

/**
 * Finished deliveries by transport, worth a table only when it says more than "all HTTP".
 * @param {Schemas['EventMetrics']['byTransport']} byTransport
 */
function transportTable(byTransport) {
  const rows = Object.entries(byTransport).sort((a, b) => b[1].successful + b[1].failed - (a[1].successful + a[1].failed));
  if (!rows.some(([t]) => t !== 'http')) return null;
  return h(
    'div',
    {},
    h('h3', {}, 'By transport'),
    dataTable(
      [
        { label: 'Transport', render: (r) => r[0] },
        { label: 'Succeeded', class: 'num', render: (r) => formatNumber(r[1].successful, 0) },
        { label: 'Failed', class: 'num', render: (r) => formatNumber(r[1].failed, 0) },
      ],
      rows,
      'Finished deliveries by transport',
    ),
  );
}

/** @param {Schemas['EventMetrics']} m */
function renderMetrics(m) {
  const rate = successPercent(m.deliveryRate);
  const { latency, throughput, errors } = m;
  return [
    h(
      'div',
      { class: 'stats' },
      stat(
        'Delivery success',
        formatPercent(rate),
        `${formatNumber(m.deliveryRate.successful, 0)} ok · ${formatNumber(m.deliveryRate.failed, 0)} failed`,
      ),
      stat('Latency p50', formatDuration(latency.p50)),
      stat('Latency p95', formatDuration(latency.p95)),
      stat('Latency p99', formatDuration(latency.p99), `average ${formatDuration(latency.average)}`),
      // The API's `throughput` counts finished deliveries (success or failed for good), not published events,
      // whatever its field names say: the cards say what is counted.
      stat('Deliveries finished / s', formatNumber(throughput.eventsPerSecond), 'last 10 seconds'),
      stat('Peak deliveries / s', formatNumber(throughput.peakThroughput, 0), 'busiest second of the window'),
      stat('Average deliveries / s', formatNumber(throughput.averageThroughput), 'over the window'),
      stat('Retry successes', formatNumber(errors.retrySuccess, 0)),
    ),
    h(
      'div',
      { class: 'two-col' },
      h('div', {}, h('h3', {}, 'Errors by type'), countsTable(errors.byType, 'Type', 'Errors by type')),
      h('div', {}, h('h3', {}, 'Errors by status code'), countsTable(errors.byStatusCode, 'HTTP status', 'Errors by status code')),
    ),
    transportTable(m.byTransport),
  ];
}

/**
 * A check's detail is its entry in `errors` (why it fails), when it fails.
 * @param {Schemas['EventSystemHealth']} body
 */
function renderHealth(body) {
  const checks = Object.entries(body.checks).map(([name, status]) => ({ name, status, detail: body.errors?.[name] ?? '' }));
  return [
    h('p', { class: 'status-line' }, 'Overall ', badge(body.status)),
    checks.length
      ? dataTable(
          [
            { label: 'Check', render: (c) => c.name },
            { label: 'Status', render: (c) => badge(c.status) },
            { label: 'Detail', render: (c) => c.detail || '—' },
          ],
          checks,
          'Health checks',
        )
      : null,
    h('h3', {}, 'Gauges'),
    kvList(body.metrics),
  ];
}

/**
 * @param {Ctx} ctx
 */
export function metricsView(ctx) {
  const windowSelect = h(
    'select',
    { name: 'window' },
    WINDOWS.map(([v, label]) => h('option', { value: v }, label)),
  );
  const every = h(
    'select',
    { name: 'refresh' },
    INTERVALS.map(([v, label]) => h('option', { value: v, selected: v === 15 }, label)),
  );
  const updated = h('span', { class: 'muted' });
  const metrics = h('div', { 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Loading metrics…'));
  const health = h('div', { 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Loading health…'));
  let timer = 0;
  let inFlight = false;

  async function refresh() {
    if (inFlight) return;
    inFlight = true;
    const [m, hl] = await Promise.allSettled([
      ctx.session.apiKey
        ? ctx.api.get(`/api/v1/events/metrics${toQuery({ window: windowSelect.value })}`)
        : Promise.reject(new Error('Metrics are per organization: sign in with an API key to see them.')),
      // Health answers 503 with its body when unhealthy: that body is the data to show.
      ctx.api.get('/api/v1/events/health', { token: '', okStatuses: [503] }),
    ]);
    inFlight = false;
    replace(
      metrics,
      m.status === 'fulfilled'
        ? renderMetrics(/** @type {Schemas['EventMetrics']} */ (m.value))
        : m.reason instanceof ApiError
          ? errorBox(m.reason)
          : h('p', { class: 'muted' }, m.reason.message),
    );
    replace(health, hl.status === 'fulfilled' ? renderHealth(/** @type {Schemas['EventSystemHealth']} */ (hl.value)) : errorBox(hl.reason));
    replace(updated, `updated ${formatTime(new Date().toISOString())}`);
  }

  function schedule() {
    clearInterval(timer);
    const seconds = Number(every.value);
    timer = seconds ? setInterval(refresh, seconds * 1000) : 0;
  }
  every.addEventListener('change', schedule);
  windowSelect.addEventListener('change', refresh);

  refresh();
  schedule();
  return {
    el: h(
      'div',
      { class: 'stack' },
      h(
        'div',
        { class: 'page-head' },
        h('h1', {}, 'Metrics & health'),
        h(
          'div',
          { class: 'actions inline-form' },
          field('Window', windowSelect),
          field('Auto-refresh', every),
          h('button', { type: 'button', onclick: refresh }, 'Refresh now'),
          updated,
        ),
      ),
      section('Health', null, health),
      section('Deliveries', null, metrics),
    ),
    dispose: () => clearInterval(timer),
  };
}
