import { maskUrl } from '../destinations/url-mask.js';
import { Injectable } from '@nestjs/common';
import { envelopeOf } from '../events/envelope.js';
import type { RetryPolicy } from '../webhooks/webhook.entity.js';
import { WebhookIndex, type CompiledWebhook } from '../webhooks/webhook-index.js';
import { DeadLetters } from './dead-letters.js';
import { decide, type Decision } from './delivery-decision.js';
import type { AttemptRecord, DeliveryKind } from './delivery.entity.js';
import { DeliveryExecutor, type Payload } from './delivery-executor.js';
import { DeliveryLog } from './delivery-log.js';
import { DeliveryQueue } from './delivery-queue.js';
import { deliveryRow, type DeliveryState } from './delivery-rows.js';
import type { BatchFlushJobData, FanoutJobData, RetryJobData } from './queues.js';
import { WebhookBatcher } from './webhook-batcher.js';

const STOPPED = 'webhook disabled or deleted: pending retries stopped';

/** What a retry job's run came to, for the queue to act on. */
export type RetryResult =
  | { kind: 'settled' }
  | { kind: 'dead'; reason: string }
  | { kind: 'retry'; attempts: AttemptRecord[]; error: string; retryAfterMs: number | undefined };

/**
 * The delivery use cases the queue processor calls. A fan-out makes the first attempt of one event to every matching
 * webhook (concurrently); each delivery that fails retryably becomes its own retry job. Deliveries that fail for good
 * go to the DLQ. Every call resolves only after its delivery-log rows are committed, so a crash re-runs the job
 * (at-least-once; receivers de-duplicate on `webhook-id`).
 */
@Injectable()
export class DeliveryRunner {
  constructor(
    private readonly index: WebhookIndex,
    private readonly executor: DeliveryExecutor,
    private readonly log: DeliveryLog,
    private readonly queue: DeliveryQueue,
    private readonly deadLetters: DeadLetters,
    private readonly batcher: WebhookBatcher,
  ) {}

  async fanout(data: FanoutJobData): Promise<{ delivered: number }> {
    const { event, targets } = data;
    const json = JSON.stringify(envelopeOf(event));
    let delivered = 0;
    await Promise.all(
      targets.map(async (t) => {
        const hook = this.index.get(t.webhookId);
        // Disabled or deleted since the event was matched: nothing to deliver.
        if (!hook || hook.row.organizationId !== event.organizationId) return;
        if (hook.row.batch) return this.batcher.add(hook, event);
        if (await this.firstAttempt(hook, { event, json, traceparent: data.traceparent }, t.deliveryId, t.kind)) delivered++;
      }),
    );
    return { delivered };
  }

  flushBatch(data: BatchFlushJobData): Promise<unknown> {
    return this.batcher.flush(data.webhookId, (hook, payload, deliveryId) => this.firstAttempt(hook, payload, deliveryId, 'batch'));
  }

  /** Attempt `firstAttempt + attemptsMade` of a delivery that failed retryably before. */
  async retry(data: RetryJobData, attemptsMade: number): Promise<RetryResult> {
    const attempt = data.firstAttempt + attemptsMade;
    const hook = this.index.get(data.webhookId);
    const base = { deliveryId: data.deliveryId, kind: data.kind, event: data.event, batch: data.batch, createdAt: data.createdAt };
    if (!hook) {
      await this.queue.settled(data.webhookId, data.deliveryId);
      const webhook = { id: data.webhookId, organizationId: data.event.organizationId, url: data.url };
      await this.log.record(deliveryRow({ ...base, webhook, attempts: data.attempts, status: 'failed', error: STOPPED }));
      return { kind: 'settled' };
    }
    const res = await this.executor.attempt(hook, { event: data.event, batch: data.batch, traceparent: data.traceparent }, data.deliveryId, attempt);
    const attempts: AttemptRecord[] = [...data.attempts, res.record];
    const d = decide(res, attempt, data.retry);
    await this.settle({ ...base, webhook: hook.row, attempts }, d);
    if (d.kind === 'retry') return { kind: 'retry', attempts, error: res.record.error ?? 'failed', retryAfterMs: res.retryAfterMs };
    await this.queue.settled(data.webhookId, data.deliveryId);
    return d.kind === 'dead' ? d : { kind: 'settled' };
  }

  /** Attempt 1 of a delivery; a retryable failure becomes a retry job. True when it succeeded. */
  private async firstAttempt(hook: CompiledWebhook, payload: Payload, deliveryId: string, kind: DeliveryKind): Promise<boolean> {
    const res = await this.executor.attempt(hook, payload, deliveryId, 1);
    const d = decide(res, 1, hook.row.retry);
    const createdAt = res.record.timestamp;
    const state = { webhook: hook.row, deliveryId, kind, event: payload.event, batch: payload.batch, createdAt, attempts: [res.record] };
    if (d.kind === 'retry') {
      const retry: RetryPolicy = hook.row.retry;
      const data: RetryJobData = { event: payload.event, batch: payload.batch, webhookId: hook.id, url: maskUrl(hook.row.url), deliveryId, kind, firstAttempt: 2, retry, attempts: [res.record], createdAt, traceparent: payload.traceparent };
      await this.queue.addRetries([{ data, delayMs: d.delayMs }]);
    }
    await this.settle(state, d);
    return d.kind === 'success';
  }

  /** Writes the delivery's new state (and its DLQ record when it is dead); resolves once committed. */
  private async settle(state: Omit<DeliveryState, 'status'> & { webhook: CompiledWebhook['row'] }, d: Decision): Promise<void> {
    if (d.kind === 'success') return this.log.record(deliveryRow({ ...state, status: 'success' }));
    if (d.kind === 'retry') return this.log.record(deliveryRow({ ...state, status: 'retrying', nextAttemptAt: new Date(Date.now() + d.delayMs).toISOString() }));
    await Promise.all([this.log.record(deliveryRow({ ...state, status: 'failed', error: d.reason })), this.deadLetters.bury({ ...state, reason: d.reason })]);
  }
}
