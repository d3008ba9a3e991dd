import { randomUUID } from 'node:crypto';
import { HumanaApiError, HumanaNetworkError } from './errors.js';

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface ClientOptions {
  /** e.g. `http://localhost:3000` (a trailing `/api/v1` is accepted too). */
  baseUrl: string;
  apiKey: string;
  /** Defaults to the global `fetch` (Node ≥ 18, browsers, Deno, Bun). */
  fetch?: FetchLike;
  /** Retries of network errors and 502/503/504 (idempotent requests and publishes only). Default 3. */
  maxRetries?: number;
  /** First backoff delay in ms, doubled per retry (with jitter), capped at 10 s. Default 250. */
  retryBaseMs?: number;
  /** Extra headers on every request. */
  headers?: Record<string, string>;
}

export type QueryValue = string | number | boolean | undefined | null | readonly string[];

export interface RequestOptions {
  query?: Record<string, QueryValue>;
  body?: unknown;
  headers?: Record<string, string>;
  /** Retry network errors and 502/503/504 (default: GET, PUT, DELETE, and requests carrying an Idempotency-Key). */
  retry?: boolean;
  signal?: AbortSignal;
  /** Non-2xx statuses whose body is the answer (health checks answer 503 with their report). */
  answerStatuses?: readonly number[];
}

const RETRY_STATUS = new Set([502, 503, 504]);

export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }
    function onAbort() {
      clearTimeout(t);
      reject(signal!.reason);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** Exponential backoff with full jitter in [d/2, d]. */
export function backoff(attempt: number, baseMs: number, maxMs = 10_000): number {
  const d = Math.min(maxMs, baseMs * 2 ** attempt);
  return d / 2 + Math.random() * (d / 2);
}

export const newIdempotencyKey = () => `idem_${randomUUID()}`;

/** The transport shared by every resource: auth, JSON, typed errors, retries. */
export class HttpClient {
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly fetch: FetchLike;
  readonly maxRetries: number;
  readonly retryBaseMs: number;
  private readonly extraHeaders: Record<string, string>;

  constructor(opts: ClientOptions) {
    if (!opts || !opts.baseUrl) throw new TypeError('HumanaEvents: baseUrl is required');
    if (!opts.apiKey) throw new TypeError('HumanaEvents: apiKey is required');
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '').replace(/\/api\/v1$/, '');
    this.apiKey = opts.apiKey;
    const f = opts.fetch ?? (globalThis.fetch as FetchLike | undefined);
    if (!f) throw new TypeError('HumanaEvents: no global fetch; pass options.fetch');
    this.fetch = (input, init) => f(input, init);
    this.maxRetries = opts.maxRetries ?? 3;
    this.retryBaseMs = opts.retryBaseMs ?? 250;
    this.extraHeaders = opts.headers ?? {};
  }

  url(path: string, query?: Record<string, QueryValue>): string {
    const u = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v === undefined || v === null) continue;
      u.searchParams.set(k, Array.isArray(v) ? v.join(',') : String(v));
    }
    return u.toString();
  }

  headers(extra?: Record<string, string>): Record<string, string> {
    return { authorization: `Bearer ${this.apiKey}`, ...this.extraHeaders, ...extra };
  }

  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const headers = this.headers(opts.headers);
    let body: string | undefined;
    if (opts.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.body);
    }
    const retry = opts.retry ?? (method === 'GET' || method === 'PUT' || method === 'DELETE' || 'idempotency-key' in headers);
    const url = this.url(path, opts.query);
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await this.fetch(url, { method, headers, body, signal: opts.signal });
      } catch (err) {
        if (opts.signal?.aborted) throw err;
        if (!retry || attempt >= this.maxRetries) {
          throw new HumanaNetworkError(`${method} ${path}: ${(err as Error)?.message ?? String(err)}`, err);
        }
        await sleep(backoff(attempt, this.retryBaseMs), opts.signal);
        continue;
      }
      const answer = res.ok || (opts.answerStatuses?.includes(res.status) ?? false);
      if (!answer && RETRY_STATUS.has(res.status) && retry && attempt < this.maxRetries) {
        await res.body?.cancel().catch(() => undefined);
        await sleep(backoff(attempt, this.retryBaseMs), opts.signal);
        continue;
      }
      if (answer) {
        if (res.status === 204) return undefined as T;
        const text = await res.text();
        return (text ? JSON.parse(text) : undefined) as T;
      }
      if (RETRY_STATUS.has(res.status) && retry) {
        await res.body?.cancel().catch(() => undefined);
        throw new HumanaNetworkError(`${method} ${path}: HTTP ${res.status} after ${attempt + 1} attempts`);
      }
      throw await apiErrorOf(res);
    }
  }
}

/** A failed response as a HumanaApiError (the contract's JSON error body, or the status line). */
export async function apiErrorOf(res: Response): Promise<HumanaApiError> {
  const text = await res.text().catch(() => '');
  const headers: Record<string, string> = {};
  res.headers.forEach((v, k) => (headers[k] = v));
  try {
    const e = (JSON.parse(text) as { error?: { code?: unknown; message?: unknown; details?: unknown } }).error;
    if (e && typeof e.code === 'string') {
      return new HumanaApiError(
        res.status,
        e.code,
        typeof e.message === 'string' ? e.message : e.code,
        Array.isArray(e.details) ? e.details : [],
        headers,
      );
    }
  } catch {
    // not JSON
  }
  return new HumanaApiError(res.status, `http_${res.status}`, text.slice(0, 500) || res.statusText || `HTTP ${res.status}`, [], headers);
}

/** A cursor-paginated listing: iterate items (`for await`), or whole pages with `pages()`. */
export class Paginated<T> implements AsyncIterable<T> {
  constructor(private readonly fetchPage: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor: string | null | undefined }>) {}

  async *pages(): AsyncGenerator<T[]> {
    let cursor: string | undefined;
    for (;;) {
      const { items, nextCursor } = await this.fetchPage(cursor);
      yield items;
      if (!nextCursor || items.length === 0) return;
      cursor = nextCursor;
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for await (const page of this.pages()) yield* page;
  }

  /** Every item (at most `max`). */
  async toArray(max = Infinity): Promise<T[]> {
    const out: T[] = [];
    for await (const item of this) {
      if (out.length >= max) break;
      out.push(item);
    }
    return out;
  }
}
