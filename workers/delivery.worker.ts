import { hostname } from 'node:os';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { APP_CONFIG, type AppConfig } from '../src/config/config.js';
import { RedisService } from '../src/redis/redis.service.js';
import { DeadLetters } from '../src/delivery/dead-letters.js';
import type { AttemptRecord, DeliveryKind } from '../src/delivery/delivery.entity.js';
import { DeliveryExecutor, envelopeOf, type AttemptOutcome, type Payload } from '../src/delivery/delivery-executor.js';
import { DeliveryLog } from '../src/delivery/delivery-log.js';
import { DeliveryQueue } from '../src/delivery/delivery-queue.js';
import { deliveryRow, type DeliveryState } from '../src/delivery/delivery-rows.js';
import { DeliveryStats } from '../src/delivery/delivery-stats.js';
import { JOB_NAMES, WEBHOOK_BACKOFF, WEBHOOK_QUEUES, type FanoutJobData, type RetryJobData } from '../src/delivery/queues.js';
import { retryDelayMs } from '../src/delivery/retry-policy.js';
import { WebhookBatcher } from '../src/delivery/webhook-batcher.js';
import { WebhookIndex, type CompiledWebhook } from '../src/webhooks/webhook-index.js';
import type { RetryPolicy } from '../src/webhooks/webhook.entity.js';

/** A retryable failure; BullMQ hands it to our backoff strategy, which honours the receiver's Retry-After. */
export class RetryLater extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number | undefined,
  ) {
    super(message);
  }
}

/** The contract's schedule for a retry job: attempt n waits min(multiplier^(n-1), maxDelay) s unless Retry-After said otherwise. */
export function backoffFor(attemptsMade: number, err: Error | undefined, data: Pick<RetryJobData, 'firstAttempt' | 'retry'>): number {
  if (err instanceof RetryLater && err.retryAfterMs !== undefined) return err.retryAfterMs;
  return retryDelayMs(data.firstAttempt + attemptsMade, data.retry);
}

const STOPPED = 'webhook disabled or deleted: pending retries stopped';
const HEARTBEAT_MS = 5_000;

type Decision = { kind: 'success' } | { kind: 'dead'; reason: string } | { kind: 'retry'; delayMs: number };

function decide(res: AttemptOutcome, attempt: number, retry: RetryPolicy): Decision {
  if (res.outcome === 'success') return { kind: 'success' };
  const reason = res.record.error ?? 'failed';
  if (res.outcome === 'fatal') return { kind: 'dead', reason };
  if (attempt >= retry.maxAttempts) return { kind: 'dead', reason: `${reason} (after ${attempt} attempts)` };
  return { kind: 'retry', delayMs: res.retryAfterMs ?? retryDelayMs(attempt + 1, retry) };
}

/**
 * The BullMQ delivery processor. A `fanout` job makes the first attempt of one event to every matching webhook
 * (concurrently); each delivery that fails retryably becomes its own `retry` job, which BullMQ re-runs on our
 * backoff strategy. Deliveries that fail for good go to the DLQ. A job completes only after its delivery-log rows
 * are committed, so a crash re-runs it (at-least-once; receivers de-duplicate on `webhook-id`).
 */
@Injectable()
export class DeliveryWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('DeliveryWorker');
  private worker?: Worker;
  private heartbeat?: NodeJS.Timeout;
  readonly id = `${hostname()}-${process.pid}`;

  constructor(
    private readonly redis: RedisService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly index: WebhookIndex,
    private readonly executor: DeliveryExecutor,
    private readonly log: DeliveryLog,
    private readonly queue: DeliveryQueue,
    private readonly deadLetters: DeadLetters,
    private readonly batcher: WebhookBatcher,
    private readonly stats: DeliveryStats,
  ) {}

  onApplicationBootstrap(): void {
    const stallMs = this.config.webhookStallMs;
    this.worker = new Worker(WEBHOOK_QUEUES.delivery, (job) => this.process(job), {
      connection: this.redis.connectionOptions({ connectionName: 'humana:delivery-worker' }) as ConnectionOptions,
      prefix: this.redis.keys.bullPrefix(),
      concurrency: this.config.webhookConcurrency,
      lockDuration: stallMs,
      stalledInterval: Math.max(1000, Math.floor(stallMs / 2)),
      // A job whose worker died is re-run, not failed: only a job that keeps killing workers ends in the failed set.
      maxStalledCount: 20,
      settings: {
        backoffStrategy: (attemptsMade, type, err, job) => {
          if (type !== WEBHOOK_BACKOFF || !job) return 1000;
          return backoffFor(attemptsMade, err, job.data as RetryJobData);
        },
      },
    });
    this.worker.on('error', (err) => this.logger.warn(`worker: ${err.message}`));
    const beat = () => this.stats.beat(this.id).catch(() => undefined);
    void beat();
    this.heartbeat = setInterval(beat, HEARTBEAT_MS);
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.heartbeat);
    await this.worker?.close();
    await this.stats.leave(this.id).catch(() => undefined);
  }

  private process(job: Job): Promise<unknown> {
    if (job.name === JOB_NAMES.fanout) return this.fanout(job as Job<FanoutJobData>);
    if (job.name === JOB_NAMES.retry) return this.retry(job as Job<RetryJobData>);
    if (job.name === JOB_NAMES.batchFlush) return this.batcher.flush(job.data.webhookId as string, (hook, payload, deliveryId) => this.firstAttempt(hook, payload, deliveryId, 'batch'));
    throw new UnrecoverableError(`unknown job ${job.name}`);
  }

  private async fanout(job: Job<FanoutJobData>): Promise<{ delivered: number }> {
    const { event, targets } = job.data;
    const json = JSON.stringify(envelopeOf(event));
    let delivered = 0;
    await Promise.all(
      targets.map(async (t) => {
        const hook = this.index.get(t.webhookId);
        // Disabled or deleted since the event was matched: nothing to deliver.
        if (!hook || hook.row.organizationId !== event.organizationId) return;
        if (hook.row.batch) return this.batcher.add(hook, event);
        if (await this.firstAttempt(hook, { event, json, traceparent: job.data.traceparent }, t.deliveryId, t.kind)) delivered++;
      }),
    );
    return { delivered };
  }

  /** Attempt 1 of a delivery; a retryable failure becomes a retry job. True when it succeeded. */
  private async firstAttempt(hook: CompiledWebhook, payload: Payload, deliveryId: string, kind: DeliveryKind): Promise<boolean> {
    const res = await this.executor.attempt(hook, payload, deliveryId, 1);
    const d = decide(res, 1, hook.row.retry);
    const createdAt = res.record.timestamp;
    const state = { webhook: hook.row, deliveryId, kind, event: payload.event, batch: payload.batch, createdAt, attempts: [res.record] };
    if (d.kind === 'retry') {
      const data: RetryJobData = { event: payload.event, batch: payload.batch, webhookId: hook.id, url: hook.row.url, deliveryId, kind, firstAttempt: 2, retry: hook.row.retry, attempts: [res.record], createdAt, traceparent: payload.traceparent };
      await this.queue.addRetries([{ data, delayMs: d.delayMs }]);
    }
    await this.settle(state, d);
    return d.kind === 'success';
  }

  private async retry(job: Job<RetryJobData>): Promise<void> {
    const data = job.data;
    const attempt = data.firstAttempt + job.attemptsMade;
    const hook = this.index.get(data.webhookId);
    const base = { deliveryId: data.deliveryId, kind: data.kind, event: data.event, batch: data.batch, createdAt: data.createdAt };
    if (!hook) {
      await this.queue.settled(data.webhookId, data.deliveryId);
      const webhook = { id: data.webhookId, organizationId: data.event.organizationId, url: data.url };
      await this.log.record(deliveryRow({ ...base, webhook, attempts: data.attempts, status: 'failed', error: STOPPED }));
      return;
    }
    const res = await this.executor.attempt(hook, { event: data.event, batch: data.batch, traceparent: data.traceparent }, data.deliveryId, attempt);
    const attempts: AttemptRecord[] = [...data.attempts, res.record];
    const d = decide(res, attempt, data.retry);
    await this.settle({ ...base, webhook: hook.row, attempts }, d);
    if (d.kind === 'retry') {
      await job.updateData({ ...data, attempts });
      throw new RetryLater(res.record.error ?? 'failed', res.retryAfterMs);
    }
    await this.queue.settled(data.webhookId, data.deliveryId);
    if (d.kind === 'dead') throw new UnrecoverableError(d.reason);
  }

  /** Writes the delivery's new state (and its DLQ record when it is dead); resolves once committed. */
  private async settle(state: Omit<DeliveryState, 'status'> & { webhook: CompiledWebhook['row'] }, d: Decision): Promise<void> {
    if (d.kind === 'success') return this.log.record(deliveryRow({ ...state, status: 'success' }));
    if (d.kind === 'retry') return this.log.record(deliveryRow({ ...state, status: 'retrying', nextAttemptAt: new Date(Date.now() + d.delayMs).toISOString() }));
    await Promise.all([
      this.log.record(deliveryRow({ ...state, status: 'failed', error: d.reason })),
      this.deadLetters.bury({ ...state, reason: d.reason }),
    ]);
  }
}
