import http from 'node:http';

export interface HttpReply {
  /** 0 when no response arrived (connection refused/reset, timeout). */
  status: number;
  body: string;
  error?: string;
}

/** A keep-alive agent: the load never pays a TCP handshake per request. */
export const keepAliveAgent = (maxSockets: number): http.Agent =>
  new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });

/** POST a JSON body with node:http (no global fetch on hot paths); never rejects. */
export function postJson(
  agent: http.Agent,
  url: string,
  body: string,
  headers: Record<string, string> = {},
  timeoutMs = 30_000,
): Promise<HttpReply> {
  return new Promise((resolve) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        timeout: timeoutMs,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (err) => resolve({ status: 0, body: '', error: err.message }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve({ status: 0, body: '', error: err.message }));
    req.end(body);
  });
}

/** GET a text document; rejects on non-2xx. */
export function getText(url: string, headers: Record<string, string> = {}, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, timeout: timeoutMs, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if ((res.statusCode ?? 0) >= 300) reject(new Error(`GET ${url} → ${res.statusCode}: ${text.slice(0, 300)}`));
        else resolve(text);
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** GET a JSON document; rejects on non-2xx. */
export async function getJson<T>(url: string, headers: Record<string, string> = {}, timeoutMs = 30_000): Promise<T> {
  return JSON.parse(await getText(url, headers, timeoutMs)) as T;
}
