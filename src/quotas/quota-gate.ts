import { Injectable, OnModuleInit } from '@nestjs/common';
import { ApiError } from '../common/api-error.js';
import { EventPublisher, type PublishGate } from '../events/publisher.js';
import { PrometheusMetrics } from '../observability/prometheus-metrics.js';
import { SystemEvents } from '../observability/system-events.js';
import { RedisService } from '../redis/redis.service.js';
import { OrganizationLimits } from './organization-limits.js';
import { minuteWindow, monthWindow, retryAfterSeconds, type QuotaWindow } from './windows.js';

/**
 * One atomic step for both windows: refuse the whole request if it would pass a limit (the month is checked first,
 * its refusal lasts longer), else count it; a threshold flag set with NX reports each crossing once per period.
 * KEYS: counter minute, counter month, warn minute, exceeded minute, warn month, exceeded month.
 * ARGV: count, limit minute, limit month (0 = none), expire-at minute, expire-at month (unix seconds).
 * Returns { refused window (0 none, 1 minute, 2 month), used minute, used month, crossed flags ('w1', 'x2', …)… }.
 */
const ADMIT_LUA = `
local count = tonumber(ARGV[1])
local limit = { tonumber(ARGV[2]), tonumber(ARGV[3]) }
local expireAt = { ARGV[4], ARGV[5] }
local used = { 0, 0 }
for i = 1, 2 do
  if limit[i] > 0 then used[i] = tonumber(redis.call('GET', KEYS[i]) or '0') end
end
local crossed = {}
local function flag(i, kind)
  local key = KEYS[i * 2 + (kind == 'w' and 1 or 2)]
  if redis.call('SET', key, '1', 'NX', 'EXAT', expireAt[i]) then crossed[#crossed + 1] = kind .. i end
end
for _, i in ipairs({ 2, 1 }) do
  if limit[i] > 0 and used[i] + count > limit[i] then
    flag(i, 'x')
    return { i, used[1], used[2], unpack(crossed) }
  end
end
for i = 1, 2 do
  if limit[i] > 0 then
    used[i] = redis.call('INCRBY', KEYS[i], count)
    redis.call('EXPIREAT', KEYS[i], expireAt[i])
    if used[i] * 100 >= limit[i] * 80 then flag(i, 'w') end
    if used[i] >= limit[i] then flag(i, 'x') end
  end
end
return { 0, used[1], used[2], unpack(crossed) }
`;

/** Counters outlive their period a little so a late request in a slow process still finds them. */
const EXPIRE_SLACK_SECONDS = 120;

type AdmitReply = [number, number, number, ...string[]];

/**
 * Quotas and rate limits per organization (off unless set through the admin API): `eventsPerMinute` over the calendar
 * minute, `eventsPerMonth` over the calendar month (UTC). A request that would pass a limit is refused whole (a batch
 * is never split) with 429 and `Retry-After`; `quota.warning` (≥ 80 %) and `quota.exceeded` (100 %, or the first
 * refusal) are published once per threshold per period, as system events that are themselves never counted.
 */
@Injectable()
export class QuotaGate implements PublishGate, OnModuleInit {
  constructor(
    private readonly publisher: EventPublisher,
    private readonly limits: OrganizationLimits,
    private readonly redis: RedisService,
    private readonly systemEvents: SystemEvents,
    private readonly metrics: PrometheusMetrics,
  ) {
    redis.client.defineCommand('humanaQuotaAdmit', { numberOfKeys: 6, lua: ADMIT_LUA });
  }

  onModuleInit(): void {
    this.publisher.addGate(this);
  }

  async admit(organizationId: string, count: number): Promise<void | (() => void)> {
    const { eventsPerMinute = 0, eventsPerMonth = 0 } = await this.limits.get(organizationId);
    if (!eventsPerMinute && !eventsPerMonth) return;
    const now = Date.now();
    const windows = [minuteWindow(now), monthWindow(now)] as const;
    const limitOf = [eventsPerMinute, eventsPerMonth];
    const keys: string[] = windows.map((w) => this.redis.keys.quotaCounter(organizationId, w.metric, w.id));
    // The limit is part of the flag key: raising or lowering a limit re-arms its thresholds.
    for (const [i, w] of windows.entries()) {
      for (const kind of ['warning', 'exceeded'] as const) keys.push(this.redis.keys.quotaFlag(organizationId, w.metric, w.id, limitOf[i], kind));
    }
    const expireAt = windows.map((w) => String(Math.ceil(w.resetsAt / 1000) + EXPIRE_SLACK_SECONDS));
    let reply: AdmitReply;
    try {
      const client = this.redis.client as unknown as { humanaQuotaAdmit(...args: string[]): Promise<AdmitReply> };
      reply = await client.humanaQuotaAdmit(...keys, String(count), String(eventsPerMinute), String(eventsPerMonth), ...expireAt);
    } catch (err) {
      throw ApiError.unavailable(`Quota store unavailable, the event was not accepted: ${(err as Error).message}`);
    }
    const [refused, ...rest] = reply;
    const used = [rest[0], rest[1]];
    const crossed = rest.slice(2) as string[];
    const announce = () => void this.announce(organizationId, crossed, windows, used, limitOf);
    if (refused) {
      if (crossed.length) announce();
      const i = refused - 1;
      throw this.refusal(windows[i], limitOf[i], used[i], count, now);
    }
    // After the append: the events that crossed a threshold come before the announcement in the log.
    return crossed.length ? announce : undefined;
  }

  /** In crossing order (a warning before its exceeded), off the request's path. */
  private async announce(organizationId: string, crossed: string[], windows: readonly QuotaWindow[], used: number[], limits: number[]): Promise<void> {
    for (const flag of crossed) {
      const i = Number(flag[1]) - 1;
      const { metric } = windows[i];
      if (flag[0] === 'w') {
        const percentage = Math.round((used[i] * 1000) / limits[i]) / 10;
        await this.systemEvents.publish(organizationId, 'quota.warning', { organizationId, metric, current: used[i], limit: limits[i], percentage });
      } else {
        const action = metric === 'events_per_month' ? 'blocked' : 'throttled';
        await this.systemEvents.publish(organizationId, 'quota.exceeded', { organizationId, metric, limit: limits[i], action });
      }
    }
  }

  private refusal(w: QuotaWindow, limit: number, current: number, requested: number, now: number): ApiError {
    const monthly = w.metric === 'events_per_month';
    const code = monthly ? 'quota_exceeded' : 'rate_limited';
    this.metrics.publishRefused.inc({ reason: code });
    const resetsAt = new Date(w.resetsAt).toISOString();
    const message = monthly
      ? `Monthly quota of ${limit} events reached (${current} used, ${requested} requested); it resets at ${resetsAt}`
      : `Rate limit of ${limit} events per minute reached (${current} used, ${requested} requested); retry after ${resetsAt}`;
    const retryAfter = retryAfterSeconds(w, now);
    return new ApiError(429, code, message, [{ metric: w.metric, message, limit, current, requested, resetsAt, retryAfter }], {
      'Retry-After': String(retryAfter),
    });
  }
}
