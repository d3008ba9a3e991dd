import { randomBytes } from 'node:crypto';
import { maskUrl } from '../destinations/url-mask.js';
import { Inject, Injectable } from '@nestjs/common';
import type { JobsOptions, Queue } from 'bullmq';
import { ApiError } from '../common/api-error.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import type { EventEnvelope } from '../events/envelope.js';
import { EventLog } from '../events/event-log.js';
import type { HashTag } from '../redis/keys.js';
import { RedisService, type RedisClient } from '../redis/redis.service.js';
import { confirmReplicated } from '../redis/replication.js';
import { finishFanout, type EndpointKeys } from '../redis/scripts.js';
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
  OVERFLOW_QUEUES,
  DELIVERY_LANES,
  type DeliveryLane,
  WEBHOOK_BACKOFF,
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

/** The lane of a fan-out job with this fair priority: beyond its organization's fair share, the overflow lane. Pure. */
export function laneOf(priority: number): DeliveryLane {
  return priority > 0 ? 'overflow' : 'main';
}

const ENDPOINT_KEY_CACHE_MAX = 100_000;

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

/** A webhook as far as its delivery work needs it: the organization names its partition (queue and key tag). */
export type WebhookRef = Pick<Webhook, 'id' | 'organizationId'>;

/**
 * Puts delivery work into BullMQ: fan-out jobs, per-delivery retry jobs, drains, dead jobs, and their cancellation.
 * Every job of an organization goes to its log partition's queue (FANOUT_QUEUES; the one `webhook-delivery` queue when
 * there is one partition), and its Redis keys carry that partition's hash tag.
 */
@Injectable()
export class DeliveryQueue {
  private readonly endpointKeyCache = new Map<string, EndpointKeys>();
  /** REDIS_MIN_REPLICAS_ACK > 0: WAIT's own connection, opened on first use (only processes that match add fan-outs). */
  private durableConn?: RedisClient;

  constructor(
    private readonly redis: RedisService,
    private readonly log: DeliveryLog,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(FANOUT_QUEUES) private readonly fanoutQueues: Queue[],
    @Inject(OVERFLOW_QUEUES) private readonly overflowQueues: Queue[],
    private readonly eventLog: EventLog,
  ) {}

  /** The queue of the organization's log partition: its fan-outs, retries, drains, batch flushes and dead jobs. */
  queueOf(organizationId: string): Queue {
    return this.fanoutQueues[this.eventLog.partitionOf(organizationId)];
  }

  /** The Redis keys of a webhook's endpoint state (delivery engine), built once per webhook. */
  endpointKeys(webhook: WebhookRef): EndpointKeys {
    let keys = this.endpointKeyCache.get(webhook.id);
    if (keys) return keys;
    const k = this.redis.keys;
    const tag = this.tagOf(webhook.organizationId);
    keys = {
      health: k.webhookHealth(webhook.id, tag),
      backlog: k.webhookBacklog(webhook.id, tag),
      backlogData: k.webhookBacklogData(webhook.id, tag),
      drain: k.webhookDrain(webhook.id, tag),
      rate: k.webhookRate(webhook.id, tag),
      sequence: k.webhookSequence(webhook.id, tag),
    };
    if (this.endpointKeyCache.size >= ENDPOINT_KEY_CACHE_MAX) this.endpointKeyCache.clear();
    this.endpointKeyCache.set(webhook.id, keys);
    return keys;
  }

  /** The hash tag of the organization's delivery keys (its log partition's). */
  tagOf(organizationId: string): HashTag {
    return this.eventLog.organizationTag(organizationId);
  }

  private get keepFailed() {
    return { age: this.config.dlqRetentionDays * DAY_S, count: FAILED_KEEP_MAX };
  }

  /**
   * Fan-out jobs (chunkFanouts), each on its organization's partition queue of the lane its fair share puts it in
   * (laneOf); the job id derives from the contents, so re-matching the same batch adds nothing. A `redelivered` batch
   * (matched before, by this matcher or a dead one) first looks for its jobs in both lanes: one found stays where it
   * is and is not counted again, so a second matching never puts a job in the other lane. With REDIS_MIN_REPLICAS_ACK
   * > 0 it resolves only once the jobs are on that many replicas (see confirmFanouts).
   */
  async addFanouts(jobs: FanoutJobData[], batch = { redelivered: false }): Promise<void> {
    if (!jobs.length) return;
    const opts: JobsOptions = {
      attempts: 10,
      backoff: { type: 'fixed', delay: 1000 },
      removeOnComplete: KEEP_COMPLETED,
      removeOnFail: this.keepFailed,
    };
    const queued = batch.redelivered ? await this.queuedLanes(jobs) : [];
    const fresh = jobs.filter((_j, i) => !queued[i]);
    const freshPriorities = await this.fairPriorities(
      fresh.map((j) => j.organizationId),
      fresh.map(fanoutSize),
    );
    const byQueue = new Map<Queue, { partition: number; lane: DeliveryLane; added: Parameters<Queue['addBulk']>[0] }>();
    let f = 0;
    jobs.forEach((data, i) => {
      const priority = queued[i] ? 0 : freshPriorities[f++];
      const partition = this.eventLog.partitionOf(data.organizationId);
      const lane = queued[i] ?? laneOf(priority);
      const queue = this.laneQueue(partition, lane);
      if (!byQueue.has(queue)) byQueue.set(queue, { partition, lane, added: [] });
      byQueue
        .get(queue)!
        .added.push({ name: JOB_NAMES.fanout, data, opts: { ...opts, jobId: fanoutJobId(data), ...(priority ? { priority } : {}) } });
    });
    // The main lane's jobs are sent first: Redis runs them before a flood's (often larger) overflow batch.
    const mainFirst = [...byQueue].sort(([, a], [, b]) => Number(a.lane === 'overflow') - Number(b.lane === 'overflow'));
    await Promise.all(mainFirst.map(([queue, { added }]) => queue.addBulk(added)));
    await Promise.all(
      [...byQueue].map(([queue, { partition, added }]) =>
        this.confirmFanouts(
          queue,
          partition,
          added.map((j) => j.opts!.jobId!),
        ),
      ),
    );
  }

  /** A log partition's queue of a lane. */
  private laneQueue(partition: number, lane: DeliveryLane): Queue {
    return lane === 'overflow' ? this.overflowQueues[partition] : this.fanoutQueues[partition];
  }

  /** The lane each job is already in (undefined: in neither): one pipeline per job, its two keys in its partition's slot. */
  private async queuedLanes(jobs: FanoutJobData[]): Promise<(DeliveryLane | undefined)[]> {
    return Promise.all(
      jobs.map(async (data) => {
        const id = fanoutJobId(data);
        const partition = this.eventLog.partitionOf(data.organizationId);
        const pipeline = this.redis.client.pipeline();
        for (const lane of DELIVERY_LANES) pipeline.exists(this.laneQueue(partition, lane).toKey(id));
        const found = (await pipeline.exec()) ?? [];
        const i = found.findIndex(([err, n]) => !err && Number(n) > 0);
        return i < 0 ? undefined : DELIVERY_LANES[i];
      }),
    );
  }

  /**
   * REDIS_MIN_REPLICAS_ACK > 0: throws unless the jobs are on that many replicas of the queue's master. The matcher
   * acknowledges its log batch only after this, so a failover cannot lose the jobs while the acknowledgement survives
   * (the log and the queue need not share a master); on a throw it matches the batch again (same job ids).
   */
  private async confirmFanouts(queue: Queue, partition: number, jobIds: string[]): Promise<void> {
    const { redisMinReplicasAck: replicas, redisWaitTimeoutMs: timeoutMs } = this.config;
    if (replicas === 0) return;
    this.durableConn ??= this.redis.connect('fanout-durable', {
      maxRetriesPerRequest: 1,
      commandTimeout: Math.max(5_000, timeoutMs + 2_000),
    });
    const mark = this.redis.keys.fanoutReplicationMark(this.eventLog.partitionTag(partition));
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
    // One pipeline per organization: the counters of organizations in different partitions live in different slots.
    const totals = await Promise.all(
      [...counts].map(async ([org, n]) => {
        const key = this.redis.keys.orgFanouts(org, this.tagOf(org));
        const res = await this.redis.client.pipeline().incrby(key, n).pexpire(key, FAIR_COUNTER_TTL_MS).exec();
        return Number(res?.[0]?.[1] ?? 0);
      }),
    );
    const next = new Map<string, number>();
    [...counts.keys()].forEach((org, i) => next.set(org, totals[i] - counts.get(org)!));
    return orgs.map((org, i) => {
      const position = next.get(org)!;
      next.set(org, position + sizes[i]);
      return fairPriority(position);
    });
  }

  /**
   * A run of the fan-out job `jobId` is over: its deliveries come off its organization's fair-share counter, once per
   * job however many runs get here (the counter never goes below 0 for long: it expires when idle), and its done hash
   * (FanoutProgress) is kept for `keepMs`, while the job could still be re-run.
   */
  async fanoutFinished(data: FanoutJobData, jobId: string, keepMs: number): Promise<void> {
    const tag = this.tagOf(data.organizationId);
    const keys = { done: this.redis.keys.fanoutDone(jobId, tag), counter: this.redis.keys.orgFanouts(data.organizationId, tag) };
    await finishFanout(this.redis.client, keys, fanoutSize(data), keepMs);
  }

  private pendingKey(webhook: WebhookRef): string {
    return this.redis.keys.webhookPending(webhook.id, this.tagOf(webhook.organizationId));
  }

  /** Schedules attempts firstAttempt…maxAttempts of deliveries to one webhook (our backoff strategy spaces them). */
  async addRetries(webhook: WebhookRef, items: { data: RetryJobData; delayMs: number }[]): Promise<void> {
    if (!items.length) return;
    await this.queueOf(webhook.organizationId).addBulk(
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
    await this.redis.client.sadd(
      this.pendingKey(webhook),
      items.map(({ data }) => data.deliveryId),
    );
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
      webhook,
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
    await this.queueOf(data.event.organizationId).add(JOB_NAMES.dead, data, {
      jobId: deadJobId(data.deliveryId),
      attempts: 1,
      removeOnComplete: true,
      removeOnFail: this.keepFailed,
    });
  }

  /** Removes DLQ entries' failed jobs (retried or purged from the DLQ), whichever kind they are, from their organization's queue. */
  async removeDead(entries: { deliveryId: string; organizationId: string }[]): Promise<void> {
    for (const { deliveryId, organizationId } of entries) {
      const queue = this.queueOf(organizationId);
      for (const jobId of [retryJobId(deliveryId), deadJobId(deliveryId)]) {
        const job = await queue.getJob(jobId);
        if (job && (await job.isFailed())) await job.remove().catch(() => undefined);
      }
    }
  }

  /** Schedules (or continues) the drain of a webhook's backlog; the caller holds its drain flag. */
  async addDrain(webhook: WebhookRef, delayMs: number, opts: { keepFlag?: boolean } = {}): Promise<void> {
    const { id: webhookId, organizationId } = webhook;
    if (!opts.keepFlag) await this.redis.client.set(this.endpointKeys(webhook).drain, '1', 'PX', Math.ceil(delayMs) + DRAIN_FLAG_SLACK_MS);
    await this.queueOf(organizationId).add(
      JOB_NAMES.drain,
      { webhookId, organizationId },
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
  async kickDrain(webhook: WebhookRef): Promise<void> {
    const key = this.endpointKeys(webhook).drain;
    const ok = await this.redis.client.set(key, '1', 'PX', DRAIN_FLAG_SLACK_MS, 'NX');
    if (ok) await this.addDrain(webhook, 0);
  }

  /** How many deliveries wait in the webhook's backlog, and when the oldest one's event was published. */
  async backlog(webhook: WebhookRef): Promise<{ pending: number; oldestAt: string | null }> {
    const { backlog: key, backlogData } = this.endpointKeys(webhook);
    const [[, pending], [, oldest]] = (await this.redis.client.multi().zcard(key).zrange(key, 0, 0, 'WITHSCORES').exec()) as [
      [null, number],
      [null, string[]],
    ];
    if (!oldest.length) return { pending, oldestAt: null };
    const raw = await this.redis.client.hget(backlogData, oldest[0]);
    const at = raw ? decodeHeld(raw).event.timestamp : new Date(Number(oldest[1])).toISOString();
    return { pending, oldestAt: new Date(Date.parse(at)).toISOString() };
  }

  /** The delivery no longer has a retry job waiting. */
  async settled(webhook: WebhookRef, deliveryId: string): Promise<void> {
    await this.redis.client.srem(this.pendingKey(webhook), deliveryId);
  }

  /**
   * Removes a webhook's waiting and delayed retry jobs and marks their deliveries failed. A job running right now
   * cannot be removed; the worker sees the webhook gone before its next attempt.
   */
  async cancelPending(webhook: Webhook, reason: string): Promise<number> {
    const key = this.pendingKey(webhook);
    const ids = await this.redis.client.smembers(key);
    const cancelled: Delivery[] = [];
    const queue = this.queueOf(webhook.organizationId);
    for (const deliveryId of ids) {
      const job = await queue.getJob(retryJobId(deliveryId));
      if (!job) continue;
      const state = await job.getState();
      if (state !== 'delayed' && state !== 'waiting' && state !== 'prioritized') continue;
      const removed = await queue.remove(job.id!);
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
    const { backlog, backlogData: data, drain } = this.endpointKeys(webhook);
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
    await this.redis.client.del(backlog, data, drain);
    if (cancelled.length) await Promise.all(cancelled.map((row) => this.log.record(row)));
    return cancelled.length;
  }
}
