import type { IncomingMessage } from 'node:http';

/** `Authorization: Bearer <key>`, else `?access_token=<key>` (browsers cannot set headers on EventSource/WebSocket). */
export function credentialFrom(req: Pick<IncomingMessage, 'headers' | 'url'>, allowQuery: boolean): string | null {
  const header = req.headers.authorization;
  if (typeof header === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (m) return m[1];
  }
  if (allowQuery && req.url) {
    const token = new URL(req.url, 'http://x').searchParams.get('access_token');
    if (token) return token;
  }
  return null;
}

/** Bearer token or HTTP Basic password (Bull Board and /metrics accept both for the admin token). */
export function adminCredentialFrom(req: Pick<IncomingMessage, 'headers'>): string | null {
  const header = req.headers.authorization;
  if (typeof header !== 'string') return null;
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (bearer) return bearer[1];
  const basic = /^Basic\s+(\S+)\s*$/i.exec(header);
  if (basic) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 ? decoded.slice(colon + 1) : decoded;
  }
  return null;
}
