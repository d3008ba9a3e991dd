import type { AutoDisableOptions, CircuitBreakerOptions, Webhook } from './webhook.entity.js';

export const DEFAULT_CIRCUIT_BREAKER: CircuitBreakerOptions = { failureThreshold: 10, probeIntervalMs: 30_000 };
export const DEFAULT_AUTO_DISABLE: AutoDisableOptions = { afterMs: 432_000_000, minFailures: 10 };

export type HealthState = 'healthy' | 'failing' | 'circuit_open' | 'disabled';

/** What the webhook view shows (contract section 8). */
export interface EndpointHealth {
  state: HealthState;
  consecutiveFailures: number;
  lastSuccessAt: string | null;
  lastFailureAt: string | null;
  disabledAt: string | null;
  disabledReason: string | null;
}

/**
 * The fields of a webhook's health hash in Redis (RedisKeys.webhookHealth), written by the attempt-recording script
 * (endpoint-record.lua) and read here. Times are unix ms.
 * - `cf` consecutive failed attempts; `ok` last success; `fail` last failure; `since` first failure after the last
 *   success; `dead` deliveries dead-lettered since the last success; `open` when the circuit opened (absent: closed);
 *   `probe` when the next probe may go; `paused` 1 while paused (mirror of the SQL column, read by the admit script).
 */
export type HealthHash = Partial<Record<'cf' | 'ok' | 'fail' | 'since' | 'dead' | 'open' | 'probe' | 'paused', string>>;

const iso = (ms: string | undefined): string | null => (ms ? new Date(Number(ms)).toISOString() : null);

/** The health a webhook shows, from its row (enabled, disabled reason) and its Redis hash. Pure. */
export function healthOf(row: Pick<Webhook, 'enabled' | 'disabledAt' | 'disabledReason'>, h: HealthHash = {}): EndpointHealth {
  const cf = Number(h.cf ?? 0);
  const state: HealthState = !row.enabled ? 'disabled' : h.open ? 'circuit_open' : cf > 0 ? 'failing' : 'healthy';
  return {
    state,
    consecutiveFailures: cf,
    lastSuccessAt: iso(h.ok),
    lastFailureAt: iso(h.fail),
    disabledAt: row.disabledAt ?? null,
    disabledReason: row.disabledReason ?? null,
  };
}

export function circuitBreakerOf(w: Pick<Webhook, 'circuitBreaker'>): CircuitBreakerOptions {
  return w.circuitBreaker ?? DEFAULT_CIRCUIT_BREAKER;
}

export function autoDisableOf(w: Pick<Webhook, 'autoDisable'>): AutoDisableOptions {
  return w.autoDisable ?? DEFAULT_AUTO_DISABLE;
}

/**
 * Auto-disable rule: every attempt has failed for at least `afterMs` (the first failure since the last success is
 * that old) and at least `minFailures` deliveries were dead-lettered since the last success. Pure.
 */
export function shouldAutoDisable(h: { since: number | null; dead: number }, opts: AutoDisableOptions, now: number): boolean {
  return h.since !== null && now - h.since >= opts.afterMs && h.dead >= opts.minFailures;
}
