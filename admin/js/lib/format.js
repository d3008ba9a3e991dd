// Display formatting: pure functions (importable from Node for tests).

const pad = (/** @type {number} */ n, width = 2) => String(n).padStart(width, '0');

/**
 * ISO-8601 → local `YYYY-MM-DD HH:MM:SS`; anything unparsable is returned as given (or "—" when empty).
 * @param {string | number | Date | null | undefined} value
 */
export function formatTime(value) {
  if (value === undefined || value === null || value === '') return '—';
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/**
 * Milliseconds → `245 ms`, `2.5 s`, `3 min 5 s`, `2 h 1 min`.
 * @param {unknown} ms
 */
export function formatDuration(ms) {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const totalSeconds = Math.round(ms / 1000);
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  return hours > 0 ? `${hours} h ${minutes} min` : `${minutes} min ${seconds} s`;
}

/**
 * How long ago `value` was, relative to `now` (ms since epoch): `just now`, `12 s ago`, `3 min ago`, `2 h ago`, `4 d ago`.
 * @param {string | number | Date} value
 */
export function formatAgo(value, now = Date.now()) {
  const t = new Date(value).getTime();
  if (Number.isNaN(t)) return '—';
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 2) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86_400)} d ago`;
}

/**
 * Numbers with thousands separators and at most `digits` decimals; non-numbers as "—".
 * @param {unknown} n
 */
export function formatNumber(n, digits = 2) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '—';
  return n.toLocaleString('en-US', { maximumFractionDigits: digits });
}

/**
 * Delivery success rate in percent. Computed from the counts when there are any (the truth, whatever scale the
 * server's `percentage` uses); otherwise the server's `percentage`; null when nothing is known.
 * @param {{ successful?: unknown, failed?: unknown, percentage?: unknown } | null | undefined} rate
 * @returns {number | null}
 */
export function successPercent(rate) {
  if (!rate || typeof rate !== 'object') return null;
  const { successful, failed, percentage } = rate;
  if (typeof successful === 'number' && typeof failed === 'number' && successful + failed > 0) {
    return (successful / (successful + failed)) * 100;
  }
  return typeof percentage === 'number' ? percentage : null;
}

/** @param {unknown} p a percentage */
export function formatPercent(p) {
  return typeof p === 'number' && Number.isFinite(p) ? `${p.toFixed(p === 100 || p === 0 ? 0 : 1)} %` : '—';
}

/**
 * Cuts long text to `max` characters with an ellipsis.
 * @param {unknown} text
 */
export function truncate(text, max = 80) {
  const s = String(text ?? '');
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/**
 * Shows only the start and the last 4 characters of a secret: `hk_live…a1b2`.
 * @param {unknown} secret
 */
export function maskSecret(secret) {
  const s = String(secret ?? '');
  if (s.length <= 12) return '•'.repeat(s.length);
  return `${s.slice(0, 7)}…${s.slice(-4)}`;
}

/**
 * Pretty JSON for display (2-space indent); values JSON cannot represent become strings.
 * @param {unknown} value
 */
export function prettyJson(value) {
  try {
    const text = JSON.stringify(value, null, 2);
    return text === undefined ? String(value) : text;
  } catch {
    return String(value);
  }
}

const OPERATORS = { gte: '≥', gt: '>', lte: '≤', lt: '<' };

/**
 * One webhook filter as a readable condition: `userId is one of user-*, u2`, `metadata.score ≥ 3 and < 10`,
 * `severity is not low`, `metadata.source exists`.
 * @param {string} field dotted path into the event's data
 * @param {unknown} condition a list of values, or an operator object ({gte|gt|lte|lt}, {not}, {exists})
 */
export function describeFilter(field, condition) {
  const list = (/** @type {unknown[]} */ values) => values.map((v) => String(v)).join(', ');
  if (Array.isArray(condition)) return condition.length === 1 ? `${field} is ${condition[0]}` : `${field} is one of ${list(condition)}`;
  if (!condition || typeof condition !== 'object') return `${field}: ${String(condition)}`;
  const c = /** @type {Record<string, unknown>} */ (condition);
  const parts = [];
  for (const [op, symbol] of Object.entries(OPERATORS)) if (c[op] !== undefined) parts.push(`${symbol} ${c[op]}`);
  if (Array.isArray(c.not)) parts.push(c.not.length === 1 ? `is not ${c.not[0]}` : `is none of ${list(c.not)}`);
  if (typeof c.exists === 'boolean') parts.push(c.exists ? 'exists' : 'is absent');
  return parts.length ? `${field} ${parts.join(' and ')}` : `${field}: ${JSON.stringify(condition)}`;
}
