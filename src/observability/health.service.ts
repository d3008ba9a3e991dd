import { Inject, Injectable, Logger, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheckService, HealthIndicatorService, TypeOrmHealthIndicator, type HealthCheckResult, type HealthIndicatorFunction } from '@nestjs/terminus';
import { APP_CONFIG, hasApi, type AppConfig } from '../config/config.js';
import { ConnectionCounter } from '../realtime/connection-counter.js';
import { RedisService } from '../redis/redis.service.js';

const CHECK_TIMEOUT_MS = 1_500;

export type CheckStatus = 'healthy' | 'degraded' | 'unhealthy';

/** The seed's health document, plus `redis`/`database` checks and an `errors` entry per failing check. */
export interface EventSystemHealth {
  status: CheckStatus;
  checks: Record<string, CheckStatus>;
  metrics: {
    active_webhooks: number | null;
    active_sse_connections: number;
    active_websocket_connections: number;
    pending_events: number | null;
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

  /** SSE and WebSocket are served by this API process and fed by the Redis fan-out. */
  private transportCheck(name: 'sse_server' | 'websocket_server'): HealthIndicatorFunction {
    return () =>
      this.indicator
        .check(name)
        .attempt(async () => {
          if (!hasApi(this.config)) throw new Error('not served by a worker-only process');
          if (this.redis.client.status !== 'ready') throw new Error('the event fan-out needs Redis');
        })
        .withTimeout(CHECK_TIMEOUT_MS);
  }

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
    const result = await this.run([this.redisCheck, this.databaseCheck, this.transportCheck('sse_server'), this.transportCheck('websocket_server')]);
    const checks: Record<string, CheckStatus> = {};
    const errors: Record<string, string> = {};
    for (const [name, detail] of Object.entries(result.details)) {
      checks[name] = STATUS[detail.status];
      if (detail.status !== 'up') errors[name] = String(detail.message ?? detail.status);
    }
    const statuses = Object.values(checks);
    const status: CheckStatus = statuses.includes('unhealthy') ? 'unhealthy' : statuses.includes('degraded') ? 'degraded' : 'healthy';
    this.noteTransition(status, errors);
    const counts = this.connections.counts();
    return {
      status,
      checks,
      metrics: {
        active_webhooks: null,
        active_sse_connections: counts.sse,
        active_websocket_connections: counts.ws + counts.socketio,
        pending_events: null,
      },
      ...(Object.keys(errors).length ? { errors } : {}),
    };
  }

  private noteTransition(status: CheckStatus, errors: Record<string, string>): void {
    if (status === this.lastStatus) return;
    const fields = { msg: `event system ${this.lastStatus} → ${status}`, errors };
    if (status === 'healthy') this.logger.log(fields);
    else this.logger.warn(fields);
    this.lastStatus = status;
  }
}
