import { HumanaApiError } from './errors.js';
import { backoff, sleep } from './http.js';
import type { StreamEvent } from './types.js';

export interface ResumeOptions {
  /** Resume after this event id (replays what is still retained after it, then live). */
  lastEventId?: string;
  /** Stops the stream: the iterator ends (no error). */
  signal?: AbortSignal;
  /** Reconnect attempts in a row before the iterator throws (default: unlimited). */
  maxReconnects?: number;
  /** First reconnect delay (default 500 ms), doubled per failed attempt, capped at `maxReconnectDelayMs` (30 s). */
  reconnectBaseMs?: number;
  maxReconnectDelayMs?: number;
  /** Called when a connection is established (after a reconnect too). */
  onOpen?: (info: { lastEventId: string | undefined; reconnects: number }) => void;
  /** Called when a connection was lost and a reconnect is scheduled. */
  onReconnect?: (info: { error: unknown; attempt: number; delayMs: number; lastEventId: string | undefined }) => void;
}

export type ResumableIterator<E = StreamEvent> = AsyncIterableIterator<E> & { readonly lastEventId: string | undefined };

/** One connection: yields events until it ends (returns) or fails (throws). `opened()` must be called once it is up. */
export type ConnectOnce = (lastEventId: string | undefined, signal: AbortSignal, opened: () => void) => AsyncIterable<StreamEvent>;

/** Refusals that a reconnect would not fix (bad key, scope, unknown/expired Last-Event-ID, bad filter). */
export function isFatal(err: unknown): boolean {
  return err instanceof HumanaApiError && err.status >= 400 && err.status < 500 && err.status !== 408 && err.status !== 429;
}

/** Event ids (`evt_` + fixed-width Crockford base32 of the log position) sort by time as plain strings. */
export function isAfter(id: string, last: string | undefined): boolean {
  if (last === undefined) return true;
  return id.length === last.length ? id > last : id.length > last.length;
}

/**
 * Reconnecting, resuming iteration over `connect`: after a lost connection it waits (exponential backoff) and reconnects
 * from the last id it yielded; anything at or before that id is dropped, so no gap and no duplicate.
 */
export function resumable(opts: ResumeOptions, connect: ConnectOnce): ResumableIterator {
  let last = opts.lastEventId || undefined;
  const inner = new AbortController();
  const onAbort = () => inner.abort(opts.signal?.reason);
  if (opts.signal?.aborted) inner.abort();
  else opts.signal?.addEventListener('abort', onAbort, { once: true });

  async function* run(): AsyncGenerator<StreamEvent> {
    let failures = 0;
    let reconnects = 0;
    try {
      while (!inner.signal.aborted) {
        let error: unknown = new Error('stream ended');
        try {
          const opened = () => {
            failures = 0;
            opts.onOpen?.({ lastEventId: last, reconnects });
          };
          for await (const ev of connect(last, inner.signal, opened)) {
            if (!isAfter(ev.id, last)) continue;
            last = ev.id;
            yield ev;
          }
        } catch (err) {
          if (inner.signal.aborted) return;
          if (isFatal(err)) throw err;
          error = err;
        }
        if (inner.signal.aborted) return;
        failures++;
        if (opts.maxReconnects !== undefined && failures > opts.maxReconnects) throw error;
        const delayMs = backoff(failures - 1, opts.reconnectBaseMs ?? 500, opts.maxReconnectDelayMs ?? 30_000);
        opts.onReconnect?.({ error, attempt: failures, delayMs, lastEventId: last });
        try {
          await sleep(delayMs, inner.signal);
        } catch {
          return;
        }
        reconnects++;
      }
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      inner.abort();
    }
  }

  const gen = run();
  // defineProperty, not Object.assign (which would copy the getter's current value).
  return Object.defineProperty(gen, 'lastEventId', { get: () => last, enumerable: true }) as ResumableIterator;
}

/** A push → pull queue for callback-based transports. */
export class AsyncQueue<T> {
  private items: T[] = [];
  private waiters: Array<{ resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void }> = [];
  private done = false;
  private error: unknown;

  push(item: T): void {
    if (this.done) return;
    const w = this.waiters.shift();
    if (w) w.resolve({ value: item, done: false });
    else this.items.push(item);
  }

  end(error?: unknown): void {
    if (this.done) return;
    this.done = true;
    this.error = error;
    for (const w of this.waiters.splice(0)) {
      if (error === undefined) w.resolve({ value: undefined, done: true });
      else w.reject(error);
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for (;;) {
      if (this.items.length) {
        yield this.items.shift()!;
        continue;
      }
      if (this.done) {
        if (this.error !== undefined) throw this.error;
        return;
      }
      const r = await new Promise<IteratorResult<T>>((resolve, reject) => this.waiters.push({ resolve, reject }));
      if (r.done) return;
      yield r.value;
    }
  }
}
