// URL query and form-value helpers: pure functions.

/**
 * `{a: 'x', b: '', c: undefined, d: 3, e: []}` → `?a=x&d=3` (empty values and lists are left out); '' when nothing is left.
 * @param {Record<string, unknown> | undefined} params
 */
export function toQuery(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params ?? {})) {
    if (value === undefined || value === null || value === '' || (Array.isArray(value) && !value.length)) continue;
    search.set(name, Array.isArray(value) ? value.join(',') : String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/**
 * An `<input type="datetime-local">` value (local time) → ISO-8601 UTC; '' stays '', garbage → null.
 * @param {string} value
 */
export function localInputToIso(value) {
  if (!value) return '';
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/**
 * `"a, b,,c "` → `['a', 'b', 'c']`.
 * @param {unknown} text
 */
export function splitList(text) {
  return String(text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * Parses a JSON text field that must hold an object (filters, headers, event data). Empty → `undefined`.
 * Returns `{ value }` or `{ error }` with a message fit to show beside the field.
 * @param {unknown} text
 * @returns {{ value?: Record<string, unknown>, error?: string }}
 */
export function parseJsonObject(text) {
  const trimmed = String(text ?? '').trim();
  if (!trimmed) return { value: undefined };
  let value;
  try {
    value = JSON.parse(trimmed);
  } catch (err) {
    return { error: `Not valid JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { error: 'Must be a JSON object ({ … })' };
  return { value };
}
