import { randomBytes } from 'node:crypto';
import { maskUrl } from '../destinations/url-mask.js';
import { Inject, Injectable } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import type { JobsOptions, Queue } from 'bullmq';
import { ApiError } from '../common/api-error.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import type { EventEnvelope } from '../events/envelope.js';
import { partitionOf } from '../events/partitions.js';
import { RedisService, type RedisClient } from '../redis/redis.service.js';
import { confirmReplicated } from '../redis/replication.js';
import type { Webhook } from '../webhooks/webhook.entity.js';
import { Delivery, type DeliveryKind } from './delivery.entity.js';
import { DeliveryLog } from './delivery-log.js';
import {
  fanoutJobId,
  fanoutSize,
  JOB_NAMES,
  retryJobId,
  deadJobId,
  FANOUT_QUEUES,
  WEBHOOK_BACKOFF,
  WEBHOOK_QUEUES,
  type FanoutJobData,
  type RetryJobData,
  type DeadJobData,
} from './queues.js';
import { deliveryRow } from './delivery-rows.js';
import { decodeHeld } from './engine-decision.js';

/** Queued fan-out deliveries per organization served without priority (see DeliveryQueue.fairPriorities). */
export const FAIR_SHARE = 256;
const FAIR_COUNTER_TTL_MS = 10 * 60_000;
const MAX_PRIORITY = 2 ** 21 - 1;

/** BullMQ priority of an organization's fan-out job whose first delivery is at `position` among its queued ones (0 = none). Pure. */
export function fairPriority(position: number): number {
  if (position < FAIR_SHARE) return 0;
  return Math.min(MAX_PRIORITY, 1 + Math.floor((position - FAIR_SHARE) / FAIR_SHARE));
}

/** A drain flag outlives the drain job's delay by this much (a lost job heals when the flag expires). */
export const DRAIN_FLAG_SLACK_MS = 60_000;

const DAY_S = 24 * 3600;
/** The failed set's count cap (BullMQ removeOnFail), beside its age cap of DLQ_RETENTION_DAYS. */
const FAILED_KEEP_MAX = 100_000;
/** Finished jobs stay this long so a re-matched event finds its job id taken (no second delivery). */
const KEEP_COMPLETED = { age: 3600, count: 20_000 };

/**
 * A new delivery to a disabled webhook would be cancelled at once ("pending retries stopped") and lost: replays and
 * DLQ retries are refused instead, and the caller keeps what it would have redelivered (the DLQ entry stays).
 */
export function assertEnabled(webhook: Pick<Webhook, 'id' | 'enabled'>): void {
  if (webhook.enabled) return;
  throw new ApiError(
    409,
    'webhook_disabled',
    `Webhook ${webhook.id} is disabled; enable it (PATCH {"enabled": true}) before retrying or replaying`,
    [{ field: 'webhookId', message: 'the webhook is disabled', webhookId: webhook.id }],
  );
}

/** Puts delivery work into BullMQ: fan-out jobs, per-delivery retry jobs, and their cancellation. */
@Injectable()
export class DeliveryQueue {
  /** REDIS_MIN_REPLICAS_ACK > 0: WAIT's own connection, opened on first use (only processes that match add fan-outs). */
  private durableConn?: RedisClient;

  constructor(
    @InjectQueue(WEBHOOK_QUEUES.delivery) readonly queue: Queue,
    private readonly redis: RedisService,
    private readonly log: DeliveryLog,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(FANOUT_QUEUES) private readonly fanoutQueues: Queue[],
  ) {}

  private get keepFailed() {
    return { age: this.config.dlqRetentionDays * DAY_S, count: FAILED_KEEP_MAX };
  }

  /**
   * Fan-out jobs (chunkFanouts), each on its organization's partition queue; the job id derives from the contents, so
   * re-matching the same batch adds nothing. With REDIS_MIN_REPLICAS_ACK > 0 it resolves only once the jobs are on that
   * many replicas (see confirmFanouts).
   */
  async addFanouts(jobs: FanoutJobData[]): Promise<void> {
    if (!jobs.length) return;
    const opts: JobsOptions = {
      attempts: 10,
      backoff: { type: 'fixed', delay: 1000 },
      removeOnComplete: KEEP_COMPLETED,
      removeOnFail: this.keepFailed,
    };
    const priorities = await this.fairPriorities(
      jobs.map((j) => j.organizationId),
      jobs.map(fanoutSize),
    );
    const byPartition = new Map<number, Parameters<Queue['addBulk']>[0]>();
    jobs.forEach((data, i) => {
      const priority = priorities[i] ? { priority: priorities[i] } : {};
      const p = partitionOf(data.organizationId, this.fanoutQueues.length);
      if (!byPartition.has(p)) byPartition.set(p, []);
      byPartition.get(p)!.push({ name: JOB_NAMES.fanout, data, opts: { ...opts, jobId: fanoutJobId(data), ...priority } });
    });
    await Promise.all([...byPartition].map(([p, queued]) => this.fanoutQueues[p].addBulk(queued)));
    await Promise.all(
      [...byPartition].map(([p, queued]) =>
        this.confirmFanouts(
          p,
          queued.map((j) => j.opts!.jobId!),
        ),
      ),
    );
  }

  /**
   * REDIS_MIN_REPLICAS_ACK > 0: throws unless the jobs are on that many replicas of the queue's master. The matcher
   * acknowledges its log batch only after this, so a failover cannot lose the jobs while the acknowledgement survives
   * (the log and the queue need not share a master); on a throw it matches the batch again (same job ids).
   */
  private async confirmFanouts(partition: number, jobIds: string[]): Promise<void> {
    const { redisMinReplicasAck: replicas, redisWaitTimeoutMs: timeoutMs } = this.config;
    if (replicas === 0) return;
    this.durableConn ??= this.redis.connect('fanout-durable', {
      maxRetriesPerRequest: 1,
      commandTimeout: Math.max(5_000, timeoutMs + 2_000),
    });
    const queue = this.fanoutQueues[partition];
    const mark = this.redis.keys.fanoutReplicationMark(this.redis.keys.eventLogTag(partition, this.fanoutQueues.length));
    const keys = jobIds.map((id) => queue.toKey(id));
    const found = await confirmReplicated(this.durableConn, mark, keys, replicas, timeoutMs);
    if (found.present < keys.length)
      throw new Error(`${keys.length - found.present} of ${keys.length} fan-out jobs are gone from the queue's master (failover?)`);
    if (found.replicas < replicas)
      throw new Error(`fan-out jobs on ${found.replicas} of ${replicas} required replica(s) after ${timeoutMs} ms`);
  }

  /**
   * Fairness across organizations, counted in deliveries: an organization's fan-out jobs starting within its first
   * FAIR_SHARE queued deliveries go to BullMQ's wait list (served before any prioritized job); beyond that share its
   * jobs are prioritized by how far beyond it they start. A flood therefore queues behind every other organization's
   * fresh work, in its own order. 0 = no priority.
   */
  private async fairPriorities(orgs: string[], sizes: number[]): Promise<number[]> {
    const counts = new Map<string, number>();
    orgs.forEach((o, i) => counts.set(o, (counts.get(o) ?? 0) + sizes[i]));
    const pipe = this.redis.client.pipeline();
    for (const [org, n] of counts)
      pipe.incrby(this.redis.keys.orgFanouts(org), n).pexpire(this.redis.keys.orgFanouts(org), FAIR_COUNTER_TTL_MS);
    const res = (await pipe.exec()) ?? [];
    const next = new Map<string, number>();
    [...counts.keys()].forEach((org, i) => next.set(org, Number(res[2 * i]?.[1] ?? 0) - counts.get(org)!));
    return orgs.map((org, i) => {
      const position = next.get(org)!;
      next.set(org, position + sizes[i]);
      return fairPriority(position);
    });
  }

  /** A fan-out job of the organization finished (the counter never goes below 0 for long: it expires when idle). */
  async fanoutDone(data: FanoutJobData): Promise<void> {
    await this.redis.client.decrby(this.redis.keys.orgFanouts(data.organizationId), fanoutSize(data));
  }

  private pendingKey(webhookId: string): string {
    return this.redis.keys.webhookPending(webhookId);
  }

  /** Schedules attempts firstAttempt…maxAttempts of one delivery (our backoff strategy spaces them). */
  async addRetries(items: { data: RetryJobData; delayMs: number }[]): Promise<void> {
    if (!items.length) return;
    await this.queue.addBulk(
      items.map(({ data, delayMs }) => ({
        name: JOB_NAMES.retry,
        data,
        opts: {
          jobId: retryJobId(data.deliveryId),
          delay: delayMs,
          attempts: Math.max(1, data.retry.maxAttempts - data.firstAttempt + 1),
          backoff: { type: WEBHOOK_BACKOFF },
          removeOnComplete: KEEP_COMPLETED,
          removeOnFail: this.keepFailed,
        },
      })),
    );
    const pipe = this.redis.client.pipeline();
    for (const { data } of items) pipe.sadd(this.pendingKey(data.webhookId), data.deliveryId);
    await pipe.exec();
  }

  /** New deliveries to one webhook, each starting at attempt 1: replays and DLQ retries. */
  async addDeliveries(
    webhook: Webhook,
    kind: DeliveryKind,
    items: { deliveryId: string; event: EventEnvelope; batch?: EventEnvelope[] }[],
  ): Promise<void> {
    assertEnabled(webhook);
    const createdAt = new Date().toISOString();
    // Visible as `pending` at once; the worker's first attempt overwrites the row.
    await Promise.all(items.map((i) => this.log.record(deliveryRow({ webhook, kind, createdAt, attempts: [], status: 'pending', ...i }))));
    const url = maskUrl(webhook.url); // job data in Redis never holds URL credentials
    await this.addRetries(
      items.map(({ deliveryId, event, batch }) => ({
        data: {
          event,
          batch,
          webhookId: webhook.id,
          url,
          deliveryId,
          kind,
          firstAttempt: 1,
          retry: webhook.retry,
          attempts: [],
          createdAt,
        },
        delayMs: 0,
      })),
    );
  }

  /** Puts a dead-lettered delivery that had no retry job into BullMQ's failed set (a job failed on its first run). */
  async addDead(data: DeadJobData): Promise<void> {
    await this.queue.add(JOB_NAMES.dead, data, {
      jobId: deadJobId(data.deliveryId),
      attempts: 1,
      removeOnComplete: true,
      removeOnFail: this.keepFailed,
    });
  }

  /** Removes a DLQ entry's failed job (retried or purged from the DLQ), whichever kind it is. */
  async removeDead(deliveryIds: string[]): Promise<void> {
    for (const id of deliveryIds) {
      for (const jobId of [retryJobId(id), deadJobId(id)]) {
        const job = await this.queue.getJob(jobId);
        if (job && (await job.isFailed())) await job.remove().catch(() => undefined);
      }
    }
  }

  /** Schedules (or continues) the drain of a webhook's backlog; the caller holds its drain flag. */
  async addDrain(webhookId: string, delayMs: number, opts: { keepFlag?: boolean } = {}): Promise<void> {
    if (!opts.keepFlag)
      await this.redis.client.set(this.redis.keys.webhookDrain(webhookId), '1', 'PX', Math.ceil(delayMs) + DRAIN_FLAG_SLACK_MS);
    await this.queue.add(
      JOB_NAMES.drain,
      { webhookId },
      {
        jobId: `drain-${webhookId}-${Date.now()}-${randomBytes(3).toString('hex')}`,
        delay: Math.max(0, Math.ceil(delayMs)),
        attempts: 10,
        backoff: { type: 'fixed', delay: 1000 },
        removeOnComplete: true,
        removeOnFail: { count: 1000 },
      },
    );
  }

  /** Starts a drain of the webhook's backlog unless one is already scheduled or running (e.g. on resume). */
  async kickDrain(webhookId: string): Promise<void> {
    const ok = await this.redis.client.set(this.redis.keys.webhookDrain(webhookId), '1', 'PX', DRAIN_FLAG_SLACK_MS, 'NX');
    if (ok) await this.addDrain(webhookId, 0);
  }

  /** How many deliveries wait in the webhook's backlog, and when the oldest one's event was published. */
  async backlog(webhookId: string): Promise<{ pending: number; oldestAt: string | null }> {
    const key = this.redis.keys.webhookBacklog(webhookId);
    const [[, pending], [, oldest]] = (await this.redis.client.multi().zcard(key).zrange(key, 0, 0, 'WITHSCORES').exec()) as [
      [null, number],
      [null, string[]],
    ];
    if (!oldest.length) return { pending, oldestAt: null };
    const raw = await this.redis.client.hget(this.redis.keys.webhookBacklogData(webhookId), oldest[0]);
    const at = raw ? decodeHeld(raw).event.timestamp : new Date(Number(oldest[1])).toISOString();
    return { pending, oldestAt: new Date(Date.parse(at)).toISOString() };
  }

  /** The delivery no longer has a retry job waiting. */
  async settled(webhookId: string, deliveryId: string): Promise<void> {
    await this.redis.client.srem(this.pendingKey(webhookId), deliveryId);
  }

  /**
   * Removes a webhook's waiting and delayed retry jobs and marks their deliveries failed. A job running right now
   * cannot be removed; the worker sees the webhook gone before its next attempt.
   */
  async cancelPending(webhook: Webhook, reason: string): Promise<number> {
    const key = this.pendingKey(webhook.id);
    const ids = await this.redis.client.smembers(key);
    const cancelled: Delivery[] = [];
    for (const deliveryId of ids) {
      const job = await this.queue.getJob(retryJobId(deliveryId));
      if (!job) continue;
      const state = await job.getState();
      if (state !== 'delayed' && state !== 'waiting' && state !== 'prioritized') continue;
      const removed = await this.queue.remove(job.id!);
      if (!removed) continue;
      const d = job.data as RetryJobData;
      cancelled.push(
        deliveryRow({
          webhook,
          deliveryId,
          kind: d.kind,
          event: d.event,
          batch: d.batch,
          createdAt: d.createdAt,
          attempts: d.attempts,
          status: 'failed',
          error: reason,
        }),
      );
    }
    await this.redis.client.del(key);
    // Held deliveries (backlog) end the same way: recorded as failed with the reason, never dropped silently.
    const backlog = this.redis.keys.webhookBacklog(webhook.id);
    const data = this.redis.keys.webhookBacklogData(webhook.id);
    const held = await this.redis.client.hgetall(data);
    for (const [member, raw] of Object.entries(held)) {
      if (member.endsWith('#s')) continue;
      const d = decodeHeld(raw);
      cancelled.push(
        deliveryRow({
          webhook,
          deliveryId: d.deliveryId,
          kind: d.kind,
          event: d.event,
          batch: d.batch,
          createdAt: d.createdAt,
          attempts: d.attempts,
          status: 'failed',
          error: reason,
        }),
      );
    }
    await this.redis.client.del(backlog, data, this.redis.keys.webhookDrain(webhook.id));
    if (cancelled.length) await Promise.all(cancelled.map((row) => this.log.record(row)));
    return cancelled.length;
  }
}
