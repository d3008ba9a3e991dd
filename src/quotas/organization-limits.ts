import { Injectable, OnModuleInit } from '@nestjs/common';
import { AuthService } from '../auth/auth.service.js';
import { RedisService } from '../redis/redis.service.js';

export interface QuotaLimits {
  eventsPerMinute?: number;
  eventsPerMonth?: number;
}

const CACHE_MS = 5_000;

/**
 * Per-organization limits without a SQL read per publish: cached briefly, dropped at once when the admin API changes
 * them here, and on every other process through a Redis channel (the TTL covers a lost message).
 */
@Injectable()
export class OrganizationLimits implements OnModuleInit {
  private readonly cache = new Map<string, { limits: Promise<QuotaLimits>; until: number }>();
  private readonly channel: string;

  constructor(
    private readonly auth: AuthService,
    private readonly redis: RedisService,
  ) {
    this.channel = redis.keys.limitsChangedChannel();
  }

  onModuleInit(): void {
    const sub = this.redis.connect('limits-changed');
    sub.on('message', (_channel: string, organizationId: string) => this.cache.delete(organizationId));
    sub.subscribe(this.channel).catch(() => undefined); // ioredis re-subscribes after a reconnect
    this.auth.onLimitsChanged((organizationId) => {
      this.cache.delete(organizationId);
      this.redis.client.publish(this.channel, organizationId).catch(() => undefined);
    });
  }

  get(organizationId: string): Promise<QuotaLimits> {
    const now = Date.now();
    const hit = this.cache.get(organizationId);
    if (hit && hit.until > now) return hit.limits;
    const limits = this.auth.getOrganization(organizationId).then((org) => {
      const { eventsPerMinute, eventsPerMonth } = org.limits ?? {};
      return { eventsPerMinute, eventsPerMonth };
    });
    limits.catch(() => this.cache.delete(organizationId));
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(organizationId, { limits, until: now + CACHE_MS });
    return limits;
  }
}
