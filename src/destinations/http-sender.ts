import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from 'node:dns';
import { isIP } from 'node:net';
import type { Readable } from 'node:stream';
import { Pool } from 'undici';
import type { Destination, SendRequest, SendResult } from './destination.js';
import { bareHost, isForbiddenAddress } from './url-guard.js';
export type { SendFailureKind } from './destination.js';

export const RESPONSE_SNIPPET_BYTES = 2048;
/** Past this much response body the connection is dropped instead of drained for reuse. */
const DRAIN_LIMIT_BYTES = 64 * 1024;
const MAX_POOLS = 1000;
const BLOCKED = 'ERR_WEBHOOK_ADDRESS_BLOCKED';
const NO_HEADERS: HttpResult['headers'] = Object.freeze({});

export type HttpRequest = SendRequest;
export type HttpResult = SendResult;

function blocked(host: string, address: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(
    `${host} resolves to ${address}, a private, loopback, link-local or metadata address: not allowed`,
  );
  err.code = BLOCKED;
  return err;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** DNS lookup for new connections that refuses non-public addresses after resolution (DNS rebinding). */
function publicOnlyLookup(hostname: string, options: LookupAllOptions | { all?: false }, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, []);
    const bad = addresses.find((a) => isForbiddenAddress(a.address));
    if (bad) return callback(blocked(hostname, bad.address), []);
    if (options.all) callback(null, addresses);
    else callback(null, addresses[0].address, addresses[0].family);
  });
}

/**
 * The first RESPONSE_SNIPPET_BYTES of a response body, drained to its end so the connection is reused; past
 * DRAIN_LIMIT_BYTES the body (and its connection) is destroyed instead. A body cut short (timeout, reset) yields what
 * arrived: the answer's status counts all the same. Listeners, not an async iterator: this runs once per attempt.
 */
function readSnippet(body: Readable): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let kept = 0;
    let total = 0;
    const done = () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
    body.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (kept < RESPONSE_SNIPPET_BYTES) {
        chunks.push(chunk);
        kept += chunk.length;
      }
      if (total > DRAIN_LIMIT_BYTES) {
        body.destroy();
        done();
      }
    });
    body.once('end', done);
    body.once('error', done);
    body.once('close', done);
  });
}

interface Target {
  pool: Pool;
  path: string;
  /** Set when the host is an address literal that the SSRF rule refuses (no DNS lookup happens for those). */
  refused?: NodeJS.ErrnoException;
}

/**
 * Signed POSTs over keep-alive undici pools, one per origin (and timeout): undici costs about a third less CPU per
 * request than node:http, which dominates delivery. When private addresses are refused, every new connection's
 * addresses are checked after DNS. Redirects are never followed (undici's request does not follow them).
 */
export class HttpSender implements Destination {
  /** Keep-alive pools by `timeoutMs origin`. */
  private readonly pools = new Map<string, Pool>();
  /** Parsed URLs: no URL parsing per POST. */
  private readonly targets = new Map<string, Target>();

  constructor(private readonly allowPrivate: boolean) {}

  private targetFor(url: string, timeoutMs: number): Target {
    const key = `${timeoutMs} ${url}`;
    let t = this.targets.get(key);
    if (t) return t;
    const u = new URL(url);
    const host = bareHost(u.hostname);
    const refused = !this.allowPrivate && isIP(host) && isForbiddenAddress(host) ? blocked(host, host) : undefined;
    t = { pool: this.poolFor(u.origin, timeoutMs), path: `${u.pathname}${u.search}`, refused };
    if (this.targets.size >= MAX_POOLS * 10) this.targets.clear();
    this.targets.set(key, t);
    return t;
  }

  private poolFor(origin: string, timeoutMs: number): Pool {
    const key = `${timeoutMs} ${origin}`;
    let pool = this.pools.get(key);
    if (pool) return pool;
    if (this.pools.size >= MAX_POOLS) {
      const [oldest, old] = this.pools.entries().next().value as [string, Pool];
      this.pools.delete(oldest);
      this.targets.clear();
      void old.close();
    }
    pool = new Pool(origin, {
      connections: 256,
      pipelining: 1,
      keepAliveTimeout: 4_000,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      connect: { timeout: timeoutMs, ...(this.allowPrivate ? {} : { lookup: publicOnlyLookup }) },
    });
    this.pools.set(key, pool);
    return pool;
  }

  async send(req: HttpRequest): Promise<HttpResult> {
    const started = performance.now();
    const t = this.targetFor(req.url, req.timeoutMs);
    const failed = (error: string, errorKind: HttpResult['errorKind']): HttpResult => ({
      statusCode: null,
      headers: NO_HEADERS,
      body: '',
      error,
      errorKind,
      durationMs: Math.round(performance.now() - started),
    });
    if (t.refused) return failed(`blocked: ${t.refused.message}`, 'blocked');
    let res;
    try {
      res = await t.pool.request({ path: t.path, method: 'POST', headers: req.headers, body: req.body });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === BLOCKED) return failed(`blocked: ${e.message}`, 'blocked');
      if (e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_CONNECT_TIMEOUT')
        return failed(`timeout after ${req.timeoutMs} ms`, 'timeout');
      return failed(`${e.code ?? 'error'}: ${e.message}`, 'connection');
    }
    const received = await readSnippet(res.body);
    const body = received.subarray(0, RESPONSE_SNIPPET_BYTES).toString('utf8');
    const durationMs = Math.round(performance.now() - started);
    return { statusCode: res.statusCode, headers: res.headers, body, error: null, errorKind: null, durationMs };
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    this.targets.clear();
    await Promise.all(pools.map((p) => p.destroy()));
  }
}
