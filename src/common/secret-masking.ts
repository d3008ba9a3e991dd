export const MASK = '***';

/**
 * A URL with its secrets masked and its host and path kept: `https://***:***@host/path?***`. Userinfo, query and
 * fragment are where receivers put credentials (basic auth, `?token=`); a string that is not a URL is returned as is.
 */
export function maskUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return value;
  }
  if (!url.username && !url.password && !url.search && !url.hash) return value;
  if (url.username) url.username = MASK;
  if (url.password) url.password = MASK;
  if (url.search) url.search = MASK;
  if (url.hash) url.hash = MASK;
  return url.toString();
}

/** Header names stay (they say what is configured), values go. */
export function maskHeaderValues(headers: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.keys(headers).map((name) => [name, MASK]));
}
