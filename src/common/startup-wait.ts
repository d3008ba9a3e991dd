/** How long start-up keeps trying a dependency, and the signal that cancels the wait (SIGTERM/SIGINT). */
export interface WaitOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** Pause between attempts. */
  intervalMs?: number;
  /** Called once, when the first attempt failed: `<what> not answering (<code>); retrying for up to <n> s`. */
  onWaiting?: (message: string) => void;
}

/** A dependency start-up could not reach within its bound: the message is the one line an operator reads. */
export class StartupError extends Error {}

/** `redis://user:secret@host` → `redis://user:***@host` (URLs are printed in start-up errors). */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

function reason(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown; errors?: unknown[] };
  if (typeof e?.code === 'string' && /^E[A-Z_]+$/.test(e.code)) return e.code; // ECONNREFUSED, ENOTFOUND…, not SQLSTATEs
  if (Array.isArray(e?.errors) && e.errors.length) return reason(e.errors[0]); // AggregateError (IPv4 + IPv6 attempts)
  return String(e?.message ?? err).split('\n')[0];
}

function abortable<T>(work: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return work;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })), Math.max(ms, 1));
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

/**
 * Calls `attempt(remainingMs)` until it resolves, pausing between failures; after `timeoutMs` in total throws a
 * StartupError `<what> unreachable (<code>); retried for <n> s`. An aborted signal ends the wait at once (rejects
 * with its reason). An attempt still running at the deadline is abandoned: give it a connect timeout of remainingMs.
 */
export async function retryUntil<T>(what: string, attempt: (remainingMs: number) => Promise<T>, opts: WaitOptions): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  const interval = opts.intervalMs ?? 250;
  let waiting = false;
  for (;;) {
    const remaining = deadline - Date.now();
    try {
      return await abortable(withDeadline(attempt(remaining), remaining), opts.signal);
    } catch (err) {
      if (opts.signal?.aborted) throw opts.signal.reason;
      if (Date.now() + interval >= deadline) {
        throw new StartupError(`${what} unreachable (${reason(err)}); retried for ${opts.timeoutMs / 1000} s`);
      }
      if (!waiting) opts.onWaiting?.(`${what} not answering (${reason(err)}); retrying for up to ${opts.timeoutMs / 1000} s`);
      waiting = true;
      await abortable(new Promise((r) => setTimeout(r, interval)), opts.signal);
    }
  }
}
