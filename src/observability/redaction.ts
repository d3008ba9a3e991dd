/**
 * Log redaction: nothing that authenticates anybody (API keys, admin token, webhook secrets, Authorization headers,
 * credentials in URLs) may reach a log line, whatever object or message carries it.
 */

/** Object keys whose values are always replaced. `key` alone is a secret here (API keys); `keyId`/`idempotencyKey` are not. */
const SENSITIVE_KEY =
  /^(authorization|proxy-authorization|cookie|set-cookie|password|passwd|key|keyhash|x-api-key|api[-_]?key|.*secret|.*token)$/i;

const PATTERNS: [RegExp, string][] = [
  [/\bhk_[A-Za-z0-9_-]{6,}/g, 'hk_[redacted]'],
  [/\bwhsec_[A-Za-z0-9+/=_-]{6,}/g, 'whsec_[redacted]'],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, '$1 [redacted]'],
  [/([?&](?:access_token|token|api_key|apikey|key|secret)=)[^&\s"'#]+/gi, '$1[redacted]'],
  [/(\/\/)[^/\s:@]+:[^/\s@]+@/g, '$1[redacted]@'],
];

export const REDACTED = '[redacted]';

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export class Redactor {
  private readonly patterns: [RegExp, string][];

  /** `exact`: configured secrets (admin token, bootstrap key) that may have any shape. */
  constructor(exact: (string | undefined)[] = []) {
    const known = exact.filter((s): s is string => !!s && s.length >= 8);
    this.patterns = known.length ? [[new RegExp(known.map(escapeRegExp).join('|'), 'g'), REDACTED], ...PATTERNS] : PATTERNS;
  }

  text(s: string): string {
    let out = s;
    for (const [re, replacement] of this.patterns) out = out.replace(re, replacement);
    return out;
  }

  /** Deep copy with sensitive keys replaced and every string scrubbed. */
  value(v: unknown, depth = 0): unknown {
    if (typeof v === 'string') return this.text(v);
    if (v === null || typeof v !== 'object' || depth > 8) return v;
    if (Array.isArray(v)) return v.map((x) => this.value(x, depth + 1));
    if (v instanceof Error) return { type: v.name, message: this.text(v.message), stack: v.stack ? this.text(v.stack) : undefined };
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = SENSITIVE_KEY.test(k) && x != null ? REDACTED : this.value(x, depth + 1);
    return out;
  }
}
