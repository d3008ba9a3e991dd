import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { AuthService } from '../auth/auth.service.js';
import { ApiError } from '../common/api-error.js';
import { newId } from '../common/ids.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { RedisService } from '../redis/redis.service.js';
import { ConnectionCounter, type Transport } from './connection-counter.js';

const LIMIT_CACHE_MS = 5_000;
const MAX_SYNC_MS = 2_000;

/**
 * Per-organization caps on live connections, across every API instance: each instance publishes its own counts to
 * Redis every few seconds (a hash that expires if the instance dies) and adds the others' to its own when admitting.
 * The cap is `Organization.limits.maxConnections`, else MAX_CONNECTIONS_PER_ORG.
 */
@Injectable()
export class ConnectionLimiter implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('ConnectionLimiter');
  private readonly instanceId = newId('inst');
  private readonly limits = new Map<string, { limit: number; until: number }>();
  private others = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private readonly syncMs: number;

  constructor(
    private readonly counter: ConnectionCounter,
    private readonly auth: AuthService,
    private readonly redis: RedisService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.syncMs = Math.min(MAX_SYNC_MS, config.heartbeatIntervalMs);
  }

  onModuleInit(): void {
    this.timer = setInterval(() => {
      this.sync().catch((err: Error) => this.logger.warn(`connection count sync failed: ${err.message}`));
    }, this.syncMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.redis.client
      .multi()
      .del(this.countsKey(this.instanceId))
      .zrem(this.instancesKey, this.instanceId)
      .exec()
      .catch(() => undefined);
  }

  /** Counts a new connection or throws 429 `connection_limit`; the returned function releases it (idempotent). */
  async acquire(organizationId: string, transport: Transport): Promise<() => void> {
    const limit = await this.limitFor(organizationId);
    // No await between the check and open(): concurrent connects on this instance cannot both take the last slot.
    const open = this.counter.forOrganization(organizationId) + (this.others.get(organizationId) ?? 0);
    if (open >= limit) {
      throw new ApiError(
        429,
        'connection_limit',
        `Organization ${organizationId} already has ${open} open stream connections (limit ${limit})`,
        [{ field: 'maxConnections', message: `limit ${limit}`, limit }],
      );
    }
    this.counter.open(transport, organizationId);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.counter.close(transport, organizationId);
    };
  }

  private async limitFor(organizationId: string): Promise<number> {
    const now = Date.now();
    const hit = this.limits.get(organizationId);
    if (hit && hit.until > now) return hit.limit;
    const org = await this.auth.getOrganization(organizationId).catch(() => null);
    const limit = org?.limits?.maxConnections ?? this.config.maxConnectionsPerOrg;
    if (this.limits.size > 10_000) this.limits.clear();
    this.limits.set(organizationId, { limit, until: now + LIMIT_CACHE_MS });
    return limit;
  }

  private get instancesKey(): string {
    return this.redis.keys.realtimeInstances();
  }

  private countsKey(instanceId: string): string {
    return this.redis.keys.realtimeConnections(instanceId);
  }

  /** Publishes this instance's counts and reads the live others'. */
  private async sync(): Promise<void> {
    const now = Date.now();
    const ttl = this.syncMs * 3;
    const mine = this.countsKey(this.instanceId);
    const tx = this.redis.client.multi().del(mine);
    const counts = this.counter.byOrganization();
    if (counts.size) tx.hset(mine, Object.fromEntries(counts)).pexpire(mine, ttl);
    const res = await tx
      .zadd(this.instancesKey, now, this.instanceId)
      .zremrangebyscore(this.instancesKey, '-inf', now - ttl)
      .zrange(this.instancesKey, 0, -1)
      .exec();
    const instances = (res?.[res.length - 1]?.[1] as string[] | undefined)?.filter((id) => id !== this.instanceId) ?? [];
    const others = new Map<string, number>();
    if (instances.length) {
      const pipe = this.redis.client.pipeline();
      for (const id of instances) pipe.hgetall(this.countsKey(id));
      for (const [, hash] of (await pipe.exec()) ?? []) {
        for (const [org, n] of Object.entries((hash ?? {}) as Record<string, string>)) others.set(org, (others.get(org) ?? 0) + Number(n));
      }
    }
    this.others = others;
  }
}
