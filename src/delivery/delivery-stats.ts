import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Queue } from 'bullmq';
import { LessThan, type Repository } from 'typeorm';
import { RedisService } from '../redis/redis.service.js';
import { Webhook } from '../webhooks/webhook.entity.js';
import { DlqEntry } from './dlq-entry.entity.js';
import { DELIVERY_LANES, DELIVERY_QUEUES, type DeliveryLane } from './queues.js';

/** A worker that has not refreshed its heartbeat for this long is considered gone. */
export const WORKER_HEARTBEAT_TTL_MS = 15_000;

export interface DeliveryQueueCounts {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
}

/** What health checks and metrics need from the webhook capability, without knowing its tables or queues. */
@Injectable()
export class DeliveryStats {
  constructor(
    private readonly redis: RedisService,
    @Inject(DELIVERY_QUEUES) private readonly queues: Queue[],
    @InjectRepository(DlqEntry) private readonly dlq: Repository<DlqEntry>,
    @InjectRepository(Webhook) private readonly webhooks: Repository<Webhook>,
  ) {}

  private get workersKey(): string {
    return this.redis.keys.workerHeartbeats();
  }

  /** Entries in the dead letter queue (one organization, or all). */
  dlqSize(organizationId?: string): Promise<number> {
    return organizationId ? this.dlq.countBy({ organizationId }) : this.dlq.count();
  }

  /** Entries created before `cutoff` (the scheduled purge should have removed those past the retention). */
  dlqOlderThan(cutoff: Date): Promise<number> {
    return this.dlq.countBy({ createdAt: LessThan(cutoff.toISOString()) });
  }

  /** Enabled webhooks (one organization, or all). */
  activeWebhooks(organizationId?: string): Promise<number> {
    return this.webhooks.countBy(organizationId ? { enabled: true, organizationId } : { enabled: true });
  }

  /** Delivery workers whose heartbeat is fresh. */
  async liveWorkers(): Promise<string[]> {
    return this.redis.client.zrangebyscore(this.workersKey, Date.now() - WORKER_HEARTBEAT_TTL_MS, '+inf');
  }

  async queueCounts(): Promise<DeliveryQueueCounts> {
    const all = await Promise.all(this.queues.map((q) => q.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized')));
    const sum = (state: string) => all.reduce((n, c) => n + (c[state] ?? 0), 0);
    return { waiting: sum('waiting') + sum('prioritized'), active: sum('active'), delayed: sum('delayed'), failed: sum('failed') };
  }

  /** The delivery lanes no live worker works: their jobs wait until one starts. */
  async lanesWithoutWorkers(): Promise<DeliveryLane[]> {
    const since = Date.now() - WORKER_HEARTBEAT_TTL_MS;
    const counts = await Promise.all(
      DELIVERY_LANES.map((lane) => this.redis.client.zcount(this.redis.keys.laneHeartbeats(lane), since, '+inf')),
    );
    return DELIVERY_LANES.filter((_lane, i) => counts[i] === 0);
  }

  /** Called by each delivery worker every few seconds, with the lanes it works. */
  async beat(workerId: string, lanes: readonly DeliveryLane[]): Promise<void> {
    const now = Date.now();
    const multi = this.redis.client.multi();
    for (const key of [this.workersKey, ...lanes.map((lane) => this.redis.keys.laneHeartbeats(lane))])
      multi.zadd(key, now, workerId).zremrangebyscore(key, '-inf', now - 10 * WORKER_HEARTBEAT_TTL_MS);
    await multi.exec();
  }

  async leave(workerId: string): Promise<void> {
    const multi = this.redis.client.multi();
    for (const key of [this.workersKey, ...DELIVERY_LANES.map((lane) => this.redis.keys.laneHeartbeats(lane))]) multi.zrem(key, workerId);
    await multi.exec();
  }
}
