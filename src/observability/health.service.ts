import { Inject, Injectable, Logger, ServiceUnavailableException } from '@nestjs/common';
import {
  HealthCheckService,
  HealthIndicatorService,
  TypeOrmHealthIndicator,
  type HealthCheckResult,
  type HealthIndicatorFunction,
} from '@nestjs/terminus';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { DeliveryStats, WORKER_HEARTBEAT_TTL_MS } from '../delivery/delivery-stats.js';
import { EventLog } from '../events/event-log.js';
import { ConnectionCounter, type Transport } from '../realtime/connection-counter.js';
import { TailStatus } from '../realtime/tail-status.js';
import { RedisService } from '../redis/redis.service.js';
import { consumerGroupBacklogs } from './log-backlog.js';

const CHECK_TIMEOUT_MS = 1_500;
const DAY_MS = 24 * 3600_000;
/** In the order the health document lists them: the seed's four, then the stores. */
const CHECKS = ['webhook_processor', 'sse_server', 'websocket_server', 'dead_letter_queue', 'redis', 'database'] as const;
/** The consumer group that turns log entries into delivery jobs. */
const WEBHOOKS_GROUP = 'webhooks';

export type CheckStatus = 'healthy' | 'degraded' | 'unhealthy';

/** The seed's health document, plus `redis`/`database` checks and an `errors` entry per failing check. */
export interface EventSystemHealth {
  status: CheckStatus;
  checks: Record<string, CheckStatus>;
  metrics: {
    active_webhooks: number | null;
    active_sse_connections: number;
    active_websocket_connections: number;
    /** Log entries the webhook matcher has not finished + delivery jobs waiting for a worker. */
    pending_events: number | null;
    dead_letter_queue_size: number | null;
    delivery_workers: number | null;
  };
  errors?: Record<string, string>;
}

const STATUS: Record<string, CheckStatus> = { up: 'healthy', degraded: 'degraded', down: 'unhealthy' };

/** Real checks behind every field of the health endpoints, run through terminus. */
@Injectable()
export class HealthService {
  private readonly logger = new Logger('Health');
  private lastStatus: CheckStatus = 'healthy';

  constructor(
    private readonly terminus: HealthCheckService,
    private readonly indicator: HealthIndicatorService,
    private readonly typeorm: TypeOrmHealthIndicator,
    private readonly redis: RedisService,
    private readonly connections: ConnectionCounter,
    private readonly tail: TailStatus,
    private readonly deliveries: DeliveryStats,
    private readonly log: EventLog,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  readonly redisCheck = () =>
    this.indicator
      .check('redis')
      .attempt(async () => {
        // While disconnected ioredis would queue the PING; answer at once instead.
        if (this.redis.client.status !== 'ready') throw new Error(`connection ${this.redis.client.status}`);
        await this.redis.client.ping();
      })
      .withTimeout(CHECK_TIMEOUT_MS);

  readonly databaseCheck = () => this.typeorm.pingCheck('database').withTimeout(CHECK_TIMEOUT_MS);

  /** SSE and WebSocket (+ Socket.IO) are fed by this process's tail of the event log: healthy while it reads. */
  private transportCheck(name: 'sse_server' | 'websocket_server', transports: Transport[]): HealthIndicatorFunction {
    return () =>
      this.indicator
        .check(name)
        .attempt(async () => {
          if (!this.tail.running) throw new Error('real-time streams are not served by this process');
          if (this.redis.client.status !== 'ready') throw new Error('the event-log tail needs Redis');
          if (this.tail.lastError) throw new Error(`event-log tail failing: ${this.tail.lastError}`);
          const counts = this.connections.counts();
          return { connections: transports.reduce((n, t) => n + counts[t], 0) };
        })
        .withTimeout(CHECK_TIMEOUT_MS);
  }

  /** Delivery workers announce themselves every few seconds (DeliveryStats heartbeat). */
  private readonly processorCheck = () =>
    this.indicator
      .check('webhook_processor')
      .attempt(async () => {
        if (this.redis.client.status !== 'ready') throw new Error('worker heartbeats are kept in Redis, which is unavailable');
        const workers = await this.deliveries.liveWorkers();
        if (!workers.length) throw new Error(`no delivery worker heartbeat in the last ${WORKER_HEARTBEAT_TTL_MS / 1000} s`);
        const idle = await this.deliveries.lanesWithoutWorkers();
        if (idle.length)
          throw new Error(
            `no delivery worker of the ${idle.join(' and ')} lane in the last ${WORKER_HEARTBEAT_TTL_MS / 1000} s (WORKER_LANE): its jobs wait`,
          );
        return { workers: workers.length };
      })
      .withTimeout(CHECK_TIMEOUT_MS);

  /** Readable, and purged on schedule: entries past the retention mean the purge job is not running. */
  private readonly deadLetterCheck = async () => {
    const key = 'dead_letter_queue';
    const cutoff = new Date(Date.now() - (this.config.dlqRetentionDays + 1) * DAY_MS);
    const result = await this.indicator
      .check(key)
      .attempt(async () => ({ size: await this.deliveries.dlqSize(), overdue: await this.deliveries.dlqOlderThan(cutoff) }))
      .withTimeout(CHECK_TIMEOUT_MS);
    const { overdue } = result[key] as { overdue?: number };
    if (overdue)
      return this.indicator
        .check(key)
        .degraded({ message: `${overdue} entries older than DLQ_RETENTION_DAYS: the scheduled purge is not running`, overdue });
    return result;
  };

  /** Terminus result even when a check is down (terminus throws the result in a 503 then). */
  async run(indicators: HealthIndicatorFunction[]): Promise<HealthCheckResult> {
    try {
      return await this.terminus.check(indicators);
    } catch (err) {
      if (err instanceof ServiceUnavailableException) return err.getResponse() as HealthCheckResult;
      throw err;
    }
  }

  ready(): Promise<HealthCheckResult> {
    return this.run([this.redisCheck, this.databaseCheck]);
  }

  async eventSystem(): Promise<EventSystemHealth> {
    const [result, metrics] = await Promise.all([
      this.run([
        this.redisCheck,
        this.databaseCheck,
        this.processorCheck,
        this.transportCheck('sse_server', ['sse']),
        this.transportCheck('websocket_server', ['ws', 'socketio']),
        this.deadLetterCheck,
      ]),
      this.metrics(),
    ]);
    const checks: Record<string, CheckStatus> = {};
    const errors: Record<string, string> = {};
    for (const name of CHECKS) {
      const detail = result.details[name];
      checks[name] = STATUS[detail.status];
      if (detail.status !== 'up') errors[name] = String(detail.message ?? detail.status);
    }
    const statuses = Object.values(checks);
    const status: CheckStatus = statuses.includes('unhealthy') ? 'unhealthy' : statuses.includes('degraded') ? 'degraded' : 'healthy';
    this.noteTransition(status, errors);
    return { status, checks, metrics, ...(Object.keys(errors).length ? { errors } : {}) };
  }

  /** Each figure on its own: one that cannot be read (its store is down) is null, the others still show. */
  private async metrics(): Promise<EventSystemHealth['metrics']> {
    const orNull = <T>(p: Promise<T>) => p.catch(() => null);
    const counts = this.connections.counts();
    const redisUp = this.redis.client.status === 'ready';
    const [activeWebhooks, dlqSize, workers, pending] = await Promise.all([
      orNull(this.deliveries.activeWebhooks()),
      orNull(this.deliveries.dlqSize()),
      redisUp ? orNull(this.deliveries.liveWorkers().then((w) => w.length)) : null,
      redisUp ? orNull(this.pendingEvents()) : null,
    ]);
    return {
      active_webhooks: activeWebhooks,
      active_sse_connections: counts.sse,
      active_websocket_connections: counts.ws + counts.socketio,
      pending_events: pending,
      dead_letter_queue_size: dlqSize,
      delivery_workers: workers,
    };
  }

  private async pendingEvents(): Promise<number> {
    const [groups, queue] = await Promise.all([
      consumerGroupBacklogs(this.redis.client, this.log.streamKeys),
      this.deliveries.queueCounts(),
    ]);
    const matcher = groups.find((g) => g.group === WEBHOOKS_GROUP);
    return (matcher ? matcher.lag + matcher.pending : 0) + queue.waiting;
  }

  private noteTransition(status: CheckStatus, errors: Record<string, string>): void {
    if (status === this.lastStatus) return;
    const fields = { msg: `event system ${this.lastStatus} → ${status}`, errors };
    if (status === 'healthy') this.logger.log(fields);
    else this.logger.warn(fields);
    this.lastStatus = status;
  }
}
