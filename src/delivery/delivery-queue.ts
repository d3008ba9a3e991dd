import { maskUrl } from '../destinations/url-mask.js';
import { Inject, Injectable } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import type { JobsOptions, Queue } from 'bullmq';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import type { EventEnvelope } from '../events/envelope.js';
import { RedisService } from '../redis/redis.service.js';
import type { Webhook } from '../webhooks/webhook.entity.js';
import { Delivery, type DeliveryKind } from './delivery.entity.js';
import { DeliveryLog } from './delivery-log.js';
import {
  fanoutJobId,
  JOB_NAMES,
  retryJobId,
  WEBHOOK_BACKOFF,
  WEBHOOK_QUEUES,
  type FanoutJobData,
  type RetryJobData,
} from './queues.js';
import { deliveryRow } from './delivery-rows.js';

const DAY_S = 24 * 3600;
/** Finished jobs stay this long so a re-matched event finds its job id taken (no second delivery). */
const KEEP_COMPLETED = { age: 3600, count: 20_000 };

/** Puts delivery work into BullMQ: fan-out jobs, per-delivery retry jobs, and their cancellation. */
@Injectable()
export class DeliveryQueue {
  constructor(
    @InjectQueue(WEBHOOK_QUEUES.delivery) readonly queue: Queue,
    private readonly redis: RedisService,
    private readonly log: DeliveryLog,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private get keepFailed() {
    return { age: this.config.dlqRetentionDays * DAY_S };
  }

  /** One job per event with every matching webhook; the job id is the event's, so re-matching adds nothing. */
  async addFanouts(items: FanoutJobData[]): Promise<void> {
    if (!items.length) return;
    const opts: JobsOptions = { attempts: 10, backoff: { type: 'fixed', delay: 1000 }, removeOnComplete: KEEP_COMPLETED, removeOnFail: this.keepFailed };
    await this.queue.addBulk(
      items.map((data) => ({ name: JOB_NAMES.fanout, data, opts: { ...opts, jobId: fanoutJobId(data.event.id) } })),
    );
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
  async addDeliveries(webhook: Webhook, kind: DeliveryKind, items: { deliveryId: string; event: EventEnvelope; batch?: EventEnvelope[] }[]): Promise<void> {
    const createdAt = new Date().toISOString();
    // Visible as `pending` at once; the worker's first attempt overwrites the row.
    await Promise.all(items.map((i) => this.log.record(deliveryRow({ webhook, kind, createdAt, attempts: [], status: 'pending', ...i }))));
    const url = maskUrl(webhook.url); // job data in Redis never holds URL credentials
    await this.addRetries(
      items.map(({ deliveryId, event, batch }) => ({
        data: { event, batch, webhookId: webhook.id, url, deliveryId, kind, firstAttempt: 1, retry: webhook.retry, attempts: [], createdAt },
        delayMs: 0,
      })),
    );
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
      cancelled.push(deliveryRow({ webhook, deliveryId, kind: d.kind, event: d.event, batch: d.batch, createdAt: d.createdAt, attempts: d.attempts, status: 'failed', error: reason }));
    }
    await this.redis.client.del(key);
    if (cancelled.length) await Promise.all(cancelled.map((row) => this.log.record(row)));
    return cancelled.length;
  }
}
