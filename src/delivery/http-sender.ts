import http from 'node:http';
import https from 'node:https';
import { RequestFilteringHttpAgent, RequestFilteringHttpsAgent } from 'request-filtering-agent';

export const RESPONSE_SNIPPET_BYTES = 2048;
/** Past this much response body the socket is dropped instead of drained for reuse. */
const DRAIN_LIMIT_BYTES = 64 * 1024;
const MAX_AGENTS = 1000;

export interface HttpRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
}

export interface HttpResult {
  /** null when no response arrived (timeout, connection error, blocked address). */
  statusCode: number | null;
  durationMs: number;
  headers: http.IncomingHttpHeaders;
  /** First 2 KiB of the body, UTF-8. */
  body: string;
  error: string | null;
  errorKind: 'timeout' | 'connection' | 'blocked' | null;
}

type Agent = http.Agent;

/**
 * Signed POSTs over keep-alive agents, one per origin. When private addresses are refused, the agents are
 * request-filtering agents: the address is checked after DNS on every new connection (DNS rebinding).
 * Redirects are never followed (node:http does not follow them).
 */
interface Target {
  lib: typeof http | typeof https;
  options: http.RequestOptions;
}

export class HttpSender {
  private readonly agents = new Map<string, Agent>();
  /** Parsed request options per URL: no URL parsing per POST. */
  private readonly targets = new Map<string, Target>();

  constructor(private readonly allowPrivate: boolean) {}

  private targetFor(url: string): Target {
    let t = this.targets.get(url);
    if (t) return t;
    const u = new URL(url);
    const options: http.RequestOptions = {
      method: 'POST',
      protocol: u.protocol,
      hostname: u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname,
      port: u.port || undefined,
      path: `${u.pathname}${u.search}`,
      auth: u.username || u.password ? `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}` : undefined,
      agent: this.agentFor(u),
    };
    t = { lib: u.protocol === 'https:' ? https : http, options };
    if (this.targets.size >= MAX_AGENTS * 10) this.targets.clear();
    this.targets.set(url, t);
    return t;
  }

  private agentFor(u: URL): Agent {
    const origin = u.origin;
    let agent = this.agents.get(origin);
    if (agent) return agent;
    const opts = { keepAlive: true, keepAliveMsecs: 1000, maxSockets: 256, maxFreeSockets: 64, scheduling: 'lifo' as const };
    const filter = { allowPrivateIPAddress: false, allowMetaIPAddress: false };
    if (u.protocol === 'https:') agent = this.allowPrivate ? new https.Agent(opts) : new RequestFilteringHttpsAgent({ ...opts, ...filter });
    else agent = this.allowPrivate ? new http.Agent(opts) : new RequestFilteringHttpAgent({ ...opts, ...filter });
    if (this.agents.size >= MAX_AGENTS) {
      const [oldest, old] = this.agents.entries().next().value as [string, Agent];
      old.destroy();
      this.agents.delete(oldest);
      this.targets.clear();
    }
    this.agents.set(origin, agent);
    return agent;
  }

  post(req: HttpRequest): Promise<HttpResult> {
    const started = performance.now();
    const { lib, options } = this.targetFor(req.url);
    return new Promise<HttpResult>((resolve) => {
      let settled = false;
      let statusCode: number | null = null;
      let resHeaders: http.IncomingHttpHeaders = {};
      const chunks: Buffer[] = [];
      let kept = 0;
      const finish = (error: string | null = null, errorKind: HttpResult['errorKind'] = null) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const body = Buffer.concat(chunks).subarray(0, RESPONSE_SNIPPET_BYTES).toString('utf8');
        resolve({ statusCode, durationMs: Math.round(performance.now() - started), headers: resHeaders, body, error, errorKind });
      };
      req.headers['content-length'] = String(Buffer.byteLength(req.body));
      const request = lib.request({ ...options, headers: req.headers });
      const timer = setTimeout(() => {
        // An answer already received counts; a receiver that never answers is a timeout.
        if (statusCode !== null) finish();
        else finish(`timeout after ${req.timeoutMs} ms`, 'timeout');
        request.destroy();
      }, req.timeoutMs);
      request.on('response', (res) => {
        statusCode = res.statusCode ?? null;
        resHeaders = res.headers;
        let total = 0;
        res.on('data', (chunk: Buffer) => {
          total += chunk.length;
          if (kept < RESPONSE_SNIPPET_BYTES) {
            chunks.push(chunk);
            kept += chunk.length;
          }
          if (total > DRAIN_LIMIT_BYTES) {
            finish();
            res.destroy();
          }
        });
        res.on('end', () => finish());
        res.on('error', () => finish());
        res.on('aborted', () => finish());
      });
      request.on('error', (err: NodeJS.ErrnoException) => {
        if (settled) return;
        const blocked = /is not allowed\. Because/.test(err.message);
        finish(blocked ? `blocked: ${err.message}` : `${err.code ?? 'error'}: ${err.message}`, blocked ? 'blocked' : 'connection');
      });
      request.end(req.body);
    });
  }

  onApplicationShutdown(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
    this.targets.clear();
  }
}
