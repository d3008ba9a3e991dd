import { randomBytes } from 'node:crypto';
import { ApiError } from '../common/api-error.js';
import { calendarMinute, retryAfterSeconds } from '../common/windows.js';
import type { AppConfig } from '../config/config.js';
import type { HashTag } from '../redis/keys.js';
import type { RedisService } from '../redis/redis.service.js';
import { releaseLock, windowAdmit } from '../redis/scripts.js';

/** A range replay that dies without releasing its lock frees it after this long. */
const REPLAY_LOCK_TTL_MS = 5 * 60_000;
const EXPIRE_SLACK_SECONDS = 120;

export type ReplayKind = 'replay' | 'dlq_retry';

/**
 * Mass re-enqueues (range replay, bulk DLQ retry) copy up to REPLAY_MAX_EVENTS envelopes into jobs each: an
 * organization may start REPLAY_RATE_PER_MINUTE of them per calendar minute (both kinds together), else 429 with
 * Retry-After. Nothing is counted for a refused request.
 */
export async function admitMassReplay(redis: RedisService, config: AppConfig, organizationId: string, kind: ReplayKind): Promise<void> {
  const now = Date.now();
  const window = calendarMinute(now);
  const limit = config.replayRatePerMinute;
  const expireAt = Math.ceil(window.resetsAt / 1000) + EXPIRE_SLACK_SECONDS;
  let result: { admitted: boolean; count: number };
  try {
    result = await windowAdmit(redis.client, redis.keys.replayRate(organizationId, window.id), limit, expireAt);
  } catch (err) {
    throw ApiError.unavailable(`Rate store unavailable, nothing was enqueued: ${(err as Error).message}`);
  }
  if (result.admitted) return;
  const retryAfter = retryAfterSeconds(window, now);
  const what = kind === 'replay' ? 'range replay' : 'bulk DLQ retry';
  const message = `Rate limit of ${limit} range replays and bulk DLQ retries per minute reached (REPLAY_RATE_PER_MINUTE); this ${what} was not started, retry after ${retryAfter} s`;
  throw new ApiError(429, 'rate_limited', message, [{ metric: 'replays_per_minute', message, limit, current: result.count, retryAfter }], {
    'Retry-After': String(retryAfter),
  });
}

/**
 * Runs `fn` while holding the webhook's replay lock: one range replay per webhook at a time, across processes; a
 * second one meanwhile is a 409 `replay_in_progress`. The lock has a TTL (a crashed replay frees it) and is released
 * only by its holder. `tag`: the hash tag of the webhook's organization's partition.
 */
export async function withReplayLock<T>(redis: RedisService, webhookId: string, tag: HashTag, fn: () => Promise<T>): Promise<T> {
  const key = redis.keys.webhookReplayLock(webhookId, tag);
  const token = randomBytes(12).toString('hex');
  const taken = await redis.client.set(key, token, 'PX', REPLAY_LOCK_TTL_MS, 'NX');
  if (taken !== 'OK') {
    throw new ApiError(
      409,
      'replay_in_progress',
      `A range replay of webhook ${webhookId} is still enqueuing; start the next one when it has answered`,
    );
  }
  try {
    return await fn();
  } finally {
    await releaseLock(redis.client, key, token).catch(() => undefined);
  }
}
