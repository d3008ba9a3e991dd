import type { RetryPolicy } from '../webhooks/webhook.entity.js';

/** The seed's retryable statuses; any other non-2xx status fails the delivery at once. */
export const RETRYABLE_STATUS_CODES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);

/** Statuses whose `Retry-After` replaces the scheduled wait. */
const RETRY_AFTER_STATUSES: ReadonlySet<number> = new Set([429, 503]);

/** Wait before attempt n (n ≥ 2): min(backoffMultiplier^(n-1), maxDelay) seconds. Attempt 1 is immediate. */
export function retryDelayMs(attempt: number, policy: RetryPolicy): number {
  if (attempt <= 1) return 0;
  return Math.round(Math.min(policy.backoffMultiplier ** (attempt - 1), policy.maxDelay) * 1000);
}

/** `Retry-After` as seconds or an HTTP date → ms from now (≥ 0), or undefined when absent/unparseable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export type Outcome = 'success' | 'retryable' | 'fatal';

export function classifyStatus(status: number): Outcome {
  if (status >= 200 && status < 300) return 'success';
  return RETRYABLE_STATUS_CODES.has(status) ? 'retryable' : 'fatal';
}

/** The receiver's `Retry-After`, honoured only on 429/503 and capped at maxDelay. */
export function retryAfterWait(status: number | null, header: string | undefined, policy: RetryPolicy): number | undefined {
  if (status === null || !RETRY_AFTER_STATUSES.has(status)) return undefined;
  const ms = parseRetryAfter(header);
  return ms === undefined ? undefined : Math.min(ms, policy.maxDelay * 1000);
}
