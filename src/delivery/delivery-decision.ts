import type { AttemptOutcome } from './delivery-executor.js';
import { retryDelayMs } from './retry-policy.js';
import type { RetryPolicy } from '../webhooks/webhook.entity.js';

export type Decision = { kind: 'success' } | { kind: 'dead'; reason: string } | { kind: 'retry'; delayMs: number };

/** What follows attempt `attempt` of a delivery: done, another attempt after a wait, or the DLQ. */
export function decide(res: AttemptOutcome, attempt: number, retry: RetryPolicy): Decision {
  if (res.outcome === 'success') return { kind: 'success' };
  const reason = res.record.error ?? 'failed';
  if (res.outcome === 'fatal') return { kind: 'dead', reason };
  if (attempt >= retry.maxAttempts) return { kind: 'dead', reason: `${reason} (after ${attempt} attempts)` };
  return { kind: 'retry', delayMs: res.retryAfterMs ?? retryDelayMs(attempt + 1, retry) };
}
