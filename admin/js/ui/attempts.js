// A table of delivery attempts (a delivery's `attemptHistory`, a dead letter's `attempts`).
import { h } from '../lib/dom.js';
import { formatDuration, truncate } from '../lib/format.js';
import { badge, dataTable, empty, timeCell } from './components.js';

/** @typedef {import('../lib/api.js').Schemas['Attempt']} AttemptRecord */

/** @param {AttemptRecord} a */
function responseCell(a) {
  const body = a.responseBody;
  if (body === '') return h('span', { class: 'muted' }, '—');
  const text = body;
  return text.length <= 120
    ? h('code', { class: 'snippet' }, text)
    : h('details', { class: 'json' }, h('summary', {}, h('code', { class: 'snippet' }, truncate(text, 120))), h('pre', {}, text));
}

/** @param {AttemptRecord[]} attempts */
export function attemptsTable(attempts) {
  if (!attempts.length) return empty('No attempt recorded yet.');
  return dataTable(
    [
      { label: '#', render: (/** @type {AttemptRecord} */ a) => String(a.attempt) },
      { label: 'Time', render: (/** @type {AttemptRecord} */ a) => timeCell(a.timestamp) },
      {
        label: 'Result',
        render: (/** @type {AttemptRecord} */ a) =>
          badge(a.statusCode !== null && a.statusCode >= 200 && a.statusCode < 300 && !a.error ? 'success' : 'failed'),
      },
      {
        label: 'HTTP',
        render: (/** @type {AttemptRecord} */ a) => (a.statusCode === null ? '—' : String(a.statusCode)),
      },
      { label: 'Duration', render: (/** @type {AttemptRecord} */ a) => formatDuration(a.duration) },
      {
        label: 'Error',
        render: (/** @type {AttemptRecord} */ a) =>
          a.error ? [String(a.error), a.errorKind ? h('span', { class: 'chip' }, a.errorKind) : null] : '—',
      },
      { label: 'Response', render: responseCell },
    ],
    attempts,
    'Attempts',
  );
}
