import { hostname } from 'node:os';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { APP_CONFIG, type AppConfig } from '../src/config/config.js';
import { RedisService } from '../src/redis/redis.service.js';
import { DeliveryRunner } from '../src/delivery/delivery-runner.js';
import { DeliveryStats } from '../src/delivery/delivery-stats.js';
import {
  DELIVERY_LANES,
  deliveryQueueSpecs,
  JOB_NAMES,
  WEBHOOK_BACKOFF,
  type DeliveryJobName,
  type DeliveryJobs,
  type RetryJobData,
} from '../src/delivery/queues.js';
import { retryDelayMs } from '../src/delivery/retry-policy.js';

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

const HEARTBEAT_MS = 5_000;

type Handlers = { [N in DeliveryJobName]: (job: Job<DeliveryJobs[N]>) => Promise<unknown> };

/**
 * The BullMQ processor of the delivery queues of this process's lane (WORKER_LANE): one Worker per queue (the main one,
 * and with EVENT_LOG_PARTITIONS > 1 one per partition's queue; the overflow lane's likewise), each dispatching jobs by
 * name to the delivery use cases.
 */
@Injectable()
export class DeliveryProcessor implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('DeliveryWorker');
  private readonly workers: Worker[] = [];
  private heartbeat?: NodeJS.Timeout;
  readonly id = `${hostname()}-${process.pid}`;

  private readonly handlers: Handlers = {
    // attemptsStarted counts stalled re-runs too: only a re-run reads what an earlier run settled.
    [JOB_NAMES.fanout]: (job) => this.runner.fanout(job.data, { id: job.id!, rerun: job.attemptsStarted > 1 || job.attemptsMade > 0 }),
    [JOB_NAMES.batchFlush]: (job) => this.runner.flushBatch(job.data),
    [JOB_NAMES.drain]: (job) => this.runner.drain(job.data),
    [JOB_NAMES.dead]: (job) => Promise.reject(new UnrecoverableError(job.data.reason)),
    [JOB_NAMES.retry]: async (job) => {
      const result = await this.runner.retry(job.data, job.attemptsMade);
      if (result.kind === 'retry') {
        await job.updateData({ ...job.data, attempts: result.attempts });
        throw new RetryLater(result.error, result.retryAfterMs);
      }
      if (result.kind === 'dead') throw new UnrecoverableError(result.reason);
    },
  };

  constructor(
    private readonly redis: RedisService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly runner: DeliveryRunner,
    private readonly stats: DeliveryStats,
  ) {}

  onApplicationBootstrap(): void {
    const { webhookConcurrency, webhookStallMs, workerLane } = this.config;
    const partitions = this.config.eventLogPartitions.count;
    const lanes = workerLane === 'all' ? DELIVERY_LANES : [workerLane];
    for (const spec of deliveryQueueSpecs(this.redis.keys, partitions)) {
      if (!lanes.includes(spec.lane)) continue;
      const concurrency = spec.perPartition ? Math.ceil(webhookConcurrency / partitions) : webhookConcurrency;
      this.workers.push(this.startWorker(spec.name, spec.prefix, concurrency, webhookStallMs));
    }
    const beat = () => this.stats.beat(this.id, lanes).catch(() => undefined);
    void beat();
    this.heartbeat = setInterval(beat, HEARTBEAT_MS);
  }

  /** A Worker of one queue; a lane's per-partition queues share WEBHOOK_CONCURRENCY (every other queue has its own). */
  private startWorker(name: string, prefix: string, concurrency: number, stallMs: number): Worker {
    const worker = new Worker(name, (job) => this.process(job), {
      connection: this.redis.bullConnection(`delivery-worker:${name}`) as ConnectionOptions,
      prefix,
      concurrency,
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
    worker.on('error', (err) => this.logger.warn(`worker of ${name}: ${err.message}`));
    return worker;
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.heartbeat);
    await Promise.all(this.workers.map((w) => w.close()));
    await this.stats.leave(this.id).catch(() => undefined);
  }

  private process(job: Job): Promise<unknown> {
    const handler = this.handlers[job.name as DeliveryJobName] as ((job: Job) => Promise<unknown>) | undefined;
    if (!handler) throw new UnrecoverableError(`unknown job ${job.name}`);
    return handler(job);
  }
}
