// A table of delivery attempts (a delivery's detail, a dead letter's history), whatever the record names its fields.
import { h } from '../lib/dom.js';
import { formatDuration } from '../lib/format.js';
import { dataTable, empty, timeCell } from './components.js';

const pick = (obj, ...names) => names.map((n) => obj?.[n]).find((v) => v !== undefined && v !== null);

export function attemptsTable(attempts) {
  if (!attempts.length) return empty('No attempt recorded yet.');
  return dataTable([
    { label: '#', render: (a) => String(pick(a, 'attempt', 'number') ?? attempts.indexOf(a) + 1) },
    { label: 'Time', render: (a) => timeCell(pick(a, 'timestamp', 'time', 'attemptedAt', 'startedAt')) },
    { label: 'HTTP', render: (a) => String(pick(a, 'statusCode', 'status') ?? '—') },
    { label: 'Duration', render: (a) => formatDuration(pick(a, 'duration', 'durationMs')) },
    { label: 'Error', render: (a) => String(pick(a, 'error', 'errorMessage') ?? '—') },
    { label: 'Response body', render: (a) => {
      const body = pick(a, 'responseBody', 'response', 'body');
      return body === undefined ? '—' : h('details', { class: 'json' }, h('summary', {}, 'body'), h('pre', {}, typeof body === 'string' ? body : JSON.stringify(body, null, 2)));
    } },
  ], attempts, 'Attempts');
}
