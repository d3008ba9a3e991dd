import { Injectable, OnModuleInit } from '@nestjs/common';
import { ApiError } from '../common/api-error.js';
import { EventPublisher, type PublishGate } from '../events/publisher.js';
import { SystemEvents } from '../events/system-events.js';
import { RedisService } from '../redis/redis.service.js';
import { quotaAdmit, type QuotaAdmitReply } from '../redis/scripts.js';
import { OrganizationLimits } from './organization-limits.js';
import { minuteWindow, monthWindow, retryAfterSeconds, type QuotaWindow } from './windows.js';

/** Counters outlive their period a little so a late request in a slow process still finds them. */
const EXPIRE_SLACK_SECONDS = 120;

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
  ) {}

  onModuleInit(): void {
    this.publisher.addGate(this);
  }

  async admit(organizationId: string, count: number): Promise<void | (() => void)> {
    const { eventsPerMinute = 0, eventsPerMonth = 0 } = await this.limits.get(organizationId);
    if (!eventsPerMinute && !eventsPerMonth) return;
    const now = Date.now();
    const windows = [minuteWindow(now), monthWindow(now)] as const;
    const limitOf = [eventsPerMinute, eventsPerMonth];
    // One atomic step for both windows (quota-admit.lua): refuse the whole request if it would pass a limit, else
    // count it; each threshold crossing is reported once per period. Its keys share one hash tag (see redis/keys.ts).
    const keys = this.redis.keys;
    const counter = (w: QuotaWindow) => keys.quotaCounter(organizationId, w.metric, w.id);
    // The limit is part of the flag key: raising or lowering a limit re-arms its thresholds.
    const flags = (w: QuotaWindow, limit: number) => ({
      warning: keys.quotaFlag(organizationId, w.metric, w.id, limit, 'warning'),
      exceeded: keys.quotaFlag(organizationId, w.metric, w.id, limit, 'exceeded'),
    });
    const expireAt = (w: QuotaWindow) => Math.ceil(w.resetsAt / 1000) + EXPIRE_SLACK_SECONDS;
    const [minute, month] = windows;
    let reply: QuotaAdmitReply;
    try {
      reply = await quotaAdmit(
        this.redis.client,
        { counters: [counter(minute), counter(month)], flags: [flags(minute, eventsPerMinute), flags(month, eventsPerMonth)] },
        { count, limits: [eventsPerMinute, eventsPerMonth], expireAt: [expireAt(minute), expireAt(month)] },
      );
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
  private async announce(
    organizationId: string,
    crossed: string[],
    windows: readonly QuotaWindow[],
    used: number[],
    limits: number[],
  ): Promise<void> {
    for (const flag of crossed) {
      const i = Number(flag[1]) - 1;
      const { metric } = windows[i];
      if (flag[0] === 'w') {
        const percentage = Math.round((used[i] * 1000) / limits[i]) / 10;
        await this.systemEvents.publish(organizationId, 'quota.warning', {
          organizationId,
          metric,
          current: used[i],
          limit: limits[i],
          percentage,
        });
      } else {
        const action = metric === 'events_per_month' ? 'blocked' : 'throttled';
        await this.systemEvents.publish(organizationId, 'quota.exceeded', { organizationId, metric, limit: limits[i], action });
      }
    }
  }

  private refusal(w: QuotaWindow, limit: number, current: number, requested: number, now: number): ApiError {
    const monthly = w.metric === 'events_per_month';
    const code = monthly ? 'quota_exceeded' : 'rate_limited';
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
