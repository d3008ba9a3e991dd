/**
 * Pattern matching shared by webhook subscriptions and live-stream filters.
 * Type patterns: exact (`message.sent`), prefix (`message.*`), everything (`*`).
 * Value patterns: exact, or with `*` wildcards anywhere (`user-*`, `*-eu`).
 */
export function typeMatches(pattern: string, type: string): boolean {
  if (pattern === '*' || pattern === type) return true;
  return pattern.endsWith('.*') && type.startsWith(pattern.slice(0, -1));
}

export function anyTypeMatches(patterns: readonly string[], type: string): boolean {
  return patterns.some((p) => typeMatches(p, type));
}

const globCache = new Map<string, RegExp>();

export function valueMatches(pattern: string, value: unknown): boolean {
  if (value === undefined || value === null) return false;
  const v = typeof value === 'string' ? value : String(value);
  if (!pattern.includes('*')) return pattern === v;
  let re = globCache.get(pattern);
  if (!re) {
    re = new RegExp(`^${pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 's');
    if (globCache.size > 10_000) globCache.clear();
    globCache.set(pattern, re);
  }
  return re.test(v);
}

export function anyValueMatches(patterns: readonly string[], value: unknown): boolean {
  return patterns.some((p) => valueMatches(p, value));
}

/** `filters` as webhooks store them: every listed field must match one of its patterns (AND across fields, OR within). */
export function dataMatches(filters: Readonly<Record<string, readonly string[]>> | undefined, data: Record<string, unknown>): boolean {
  if (!filters) return true;
  for (const field in filters) {
    if (!anyValueMatches(filters[field], data[field])) return false;
  }
  return true;
}
