import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { newId } from '../common/ids.js';
import type { EventEnvelope } from '../events/envelope.js';
import { RedisService } from '../redis/redis.service.js';
import { releaseLock } from '../redis/scripts.js';
import { WebhookIndex, type CompiledWebhook } from '../webhooks/webhook-index.js';
import { DeliveryQueue, type WebhookRef } from './delivery-queue.js';
import { envelopeOf } from '../events/envelope.js';
import type { Payload } from './delivery-executor.js';
import { JOB_NAMES, type BatchFlushJobData } from './queues.js';

export type SendBatch = (hook: CompiledWebhook, payload: Payload, deliveryId: string) => Promise<unknown>;

/**
 * Batch delivery (`batch: {maxSize, maxWaitMs}`): matched events wait in a Redis list per webhook (durable once pushed);
 * a flush job sends them as `{events:[…]}` when the list reaches maxSize or maxWaitMs after its first event.
 * Events are trimmed from the list only after their batch's first attempt was recorded (or became a retry job),
 * so a crash re-sends a batch rather than losing it. One flusher per webhook at a time (a Redis lock). The list, the
 * lock and the flush jobs are on the webhook's organization's partition (hash tag and queue).
 */
@Injectable()
export class WebhookBatcher {
  constructor(
    private readonly redis: RedisService,
    private readonly index: WebhookIndex,
    private readonly deliveries: DeliveryQueue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private listKey(webhook: WebhookRef): string {
    return this.redis.keys.webhookBatch(webhook.id, this.deliveries.tagOf(webhook.organizationId));
  }

  private async schedule(webhook: WebhookRef, delayMs: number): Promise<void> {
    const { id: webhookId, organizationId } = webhook;
    const data: BatchFlushJobData = { webhookId, organizationId };
    await this.deliveries.queueOf(organizationId).add(JOB_NAMES.batchFlush, data, {
      jobId: `batch-${webhookId}-${Date.now()}-${randomBytes(3).toString('hex')}`,
      delay: delayMs,
      attempts: 10,
      backoff: { type: 'fixed', delay: 1000 },
      removeOnComplete: true,
      removeOnFail: 1000,
    });
  }

  async add(hook: CompiledWebhook, event: EventEnvelope): Promise<void> {
    const { maxSize, maxWaitMs } = hook.row.batch!;
    const len = await this.redis.client.rpush(this.listKey(hook.row), JSON.stringify(envelopeOf(event)));
    if (len === 1) await this.schedule(hook.row, maxWaitMs);
    else if (len % maxSize === 0) await this.schedule(hook.row, 0);
  }

  /** Sends what is waiting (in batches of maxSize); reschedules itself when events remain. */
  async flush(job: BatchFlushJobData, send: SendBatch): Promise<{ batches: number }> {
    const webhook: WebhookRef = { id: job.webhookId, organizationId: job.organizationId };
    const key = this.listKey(webhook);
    const hook = this.index.get(webhook.id);
    if (!hook?.row.batch) {
      await this.redis.client.del(key);
      return { batches: 0 };
    }
    const lock = this.redis.keys.webhookBatchLock(webhook.id, this.deliveries.tagOf(webhook.organizationId));
    const token = randomBytes(8).toString('hex');
    if ((await this.redis.client.set(lock, token, 'PX', this.config.webhookStallMs * 2, 'NX')) !== 'OK') return { batches: 0 };
    const { maxSize, maxWaitMs } = hook.row.batch;
    let batches = 0;
    try {
      const waiting = await this.redis.client.llen(key);
      for (let left = waiting; left > 0; left -= maxSize) {
        const raw = await this.redis.client.lrange(key, 0, maxSize - 1);
        if (!raw.length) break;
        const events = raw.map((r) => JSON.parse(r) as EventEnvelope);
        await send(hook, { event: events[0], batch: events }, newId('del'));
        await this.redis.client.ltrim(key, raw.length, -1);
        batches++;
      }
    } finally {
      await releaseLock(this.redis.client, lock, token);
    }
    const remaining = await this.redis.client.llen(key);
    if (remaining > 0) await this.schedule(webhook, remaining >= maxSize ? 0 : maxWaitMs);
    return { batches };
  }
}
