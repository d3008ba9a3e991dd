import { Injectable, Logger, ServiceUnavailableException } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { HealthCheckService, HealthIndicatorService, TypeOrmHealthIndicator, type HealthCheckResult, type HealthIndicatorFunction } from '@nestjs/terminus';
import { ConnectionCounter, type Transport } from '../realtime/connection-counter.js';
import { EventFanout } from '../realtime/event-fanout.js';
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
    private readonly moduleRef: ModuleRef,
  ) {}

  /** The event-log tail feeding SSE, WebSocket and Socket.IO (absent where the real-time module is not loaded). */
  private fanout(): EventFanout | null {
    try {
      return this.moduleRef.get(EventFanout, { strict: false });
    } catch {
      return null;
    }
  }

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
          const fanout = this.fanout();
          if (!fanout) throw new Error('real-time streams are not served by this process');
          if (this.redis.client.status !== 'ready') throw new Error('the event-log tail needs Redis');
          if (fanout.lastError) throw new Error(`event-log tail failing: ${fanout.lastError}`);
          const counts = this.connections.counts();
          return { connections: transports.reduce((n, t) => n + counts[t], 0) };
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
    const result = await this.run([this.redisCheck, this.databaseCheck, this.transportCheck('sse_server', ['sse']), this.transportCheck('websocket_server', ['ws', 'socketio'])]);
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
