/** Query parameters whose values are secrets wherever they appear in a destination URL. */
const SECRET_PARAMS = /^(password|pass|pwd|secret|token|access_token|api_key|apikey|auth|signature|sig)$/i;
const MASK = '***';
const cache = new Map<string, string>();

function maskNow(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url;
  }
  let changed = false;
  if (u.password) {
    u.password = MASK;
    changed = true;
  } else if (u.username && u.protocol === 'nats:') {
    // nats://<token>@host: a lone user part is an auth token.
    u.username = MASK;
    changed = true;
  }
  for (const [k] of u.searchParams) {
    if (SECRET_PARAMS.test(k)) {
      u.searchParams.set(k, MASK);
      changed = true;
    }
  }
  return changed ? u.toString().replaceAll('%2A%2A%2A', MASK) : url;
}

/**
 * A destination URL as every read, log line and audit entry shows it: the password (NATS: the token) and secret-looking
 * query parameters replaced by `***` (`amqp://guest:***@host/vhost?exchange=x`). Cheap for URLs without secrets.
 */
export function maskUrl(url: string): string {
  if (!url.includes('@') && !/[?&][^=]*(pass|pwd|secret|token|key|auth|sig)/i.test(url)) return url;
  let masked = cache.get(url);
  if (masked === undefined) {
    masked = maskNow(url);
    if (cache.size >= 10_000) cache.clear();
    cache.set(url, masked);
  }
  return masked;
}

/**
 * The URL to store for a write: a client that sends back the masked URL it read (PUT of a GET) keeps the stored
 * credentials; any other URL replaces them.
 */
export function unmaskUrl(next: string, stored: string): string {
  return next !== stored && next.includes(MASK) && maskUrl(stored) === next ? stored : next;
}
