import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { RedisService } from '../redis/redis.service.js';
import { MaintenanceRegistry } from '../scheduling/maintenance-registry.js';
import { nextDegradedState } from './degradation.js';
import { EventMetricsService } from './event-metrics.service.js';
import { SystemEvents } from '../events/system-events.js';

const SERVICE = 'webhook_delivery';
/** A degraded state nobody re-confirms (no more traffic) is forgotten after a day. */
const STATE_TTL_S = 24 * 3600;

interface Reading {
  metric: 'delivery_latency_p95_ms' | 'delivery_error_rate';
  value: number;
  threshold: number;
}

/**
 * Every PERF_CHECK_INTERVAL_MS (a maintenance job: one worker per tick), for each organization with at least
 * PERF_MIN_SAMPLES deliveries finished in the last PERF_WINDOW_MS: delivery p95 latency (publish → 2xx) and error rate
 * against their thresholds, with hysteresis. Crossing into degraded publishes one `performance.degraded` to that
 * organization; the state lives in Redis (shared by every process) and clears below threshold × PERF_RECOVERY_RATIO.
 */
@Injectable()
export class PerformanceMonitor implements OnModuleInit {
  constructor(
    private readonly registry: MaintenanceRegistry,
    private readonly metrics: EventMetricsService,
    private readonly redis: RedisService,
    private readonly systemEvents: SystemEvents,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.registry.register({ name: 'performance-check', everyMs: this.config.performance.checkIntervalMs, run: () => this.check() });
  }

  async check(now = Date.now()): Promise<{ organizations: number; degraded: number; recovered: number }> {
    const perf = this.config.performance;
    const from = new Date(now - perf.windowMs).toISOString();
    const to = new Date(now).toISOString();
    const orgs = await this.metrics.busyOrganizations(from, to, perf.minSamples);
    let degraded = 0;
    let recovered = 0;
    for (const organizationId of orgs) {
      const s = await this.metrics.summary({ organizationId, from, to });
      const readings: Reading[] = [
        { metric: 'delivery_error_rate', value: s.failed / (s.successful + s.failed), threshold: perf.errorRateThreshold },
      ];
      if (s.latency.p95 !== null)
        readings.unshift({ metric: 'delivery_latency_p95_ms', value: s.latency.p95, threshold: perf.p95ThresholdMs });
      for (const r of readings) {
        const key = this.redis.keys.performanceDegraded(organizationId, r.metric);
        const was = (await this.redis.client.exists(key)) === 1;
        const is = nextDegradedState(was, r.value, r.threshold, perf.recoveryRatio);
        if (is && !was) {
          // NX: of two overlapping checks, one announces.
          if (await this.redis.client.set(key, String(r.value), 'EX', STATE_TTL_S, 'NX')) {
            degraded++;
            await this.systemEvents.publish(organizationId, 'performance.degraded', {
              service: SERVICE,
              metric: r.metric,
              value: Math.round(r.value * 1000) / 1000,
              threshold: r.threshold,
            });
          }
        } else if (is) {
          await this.redis.client.expire(key, STATE_TTL_S);
        } else if (was) {
          recovered++;
          await this.redis.client.del(key);
        }
      }
    }
    return { organizations: orgs.length, degraded, recovered };
  }
}
