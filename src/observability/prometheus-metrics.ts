import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Seconds; from a fast loopback POST to a slow receiver near the 10 s default timeout. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * This process's Prometheus registry (one per app, not prom-client's global, so several apps can share a process).
 * Counters and histograms are fed by the code paths they count; gauges read live state at scrape time.
 */
@Injectable()
export class PrometheusMetrics {
  readonly registry = new Registry();

  readonly eventsPublished = new Counter({
    name: 'humana_events_published_total',
    help: 'Events appended to the log (idempotent repeats excluded), by type',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });

  readonly publishRefused = new Counter({
    name: 'humana_publish_refused_total',
    help: 'Publish requests refused by a quota or rate limit, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: 'humana_http_request_duration_seconds',
    help: 'HTTP request duration by method, route pattern and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly deliveries = new Counter({
    name: 'humana_webhook_deliveries_total',
    help: 'Webhook deliveries finished by this process, by outcome (success, or failed for good: dead-lettered) and transport',
    labelNames: ['outcome', 'transport'] as const,
    registers: [this.registry],
  });

  readonly attemptDuration = new Histogram({
    name: 'humana_webhook_attempt_duration_seconds',
    help: 'Duration of each webhook attempt, by outcome (success = 2xx or the broker acknowledged) and transport',
    labelNames: ['outcome', 'transport'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly deliveryLatency = new Histogram({
    name: 'humana_webhook_delivery_latency_seconds',
    help: 'Publish to 2xx response (or broker acknowledgment) of successful webhook deliveries, by transport',
    labelNames: ['transport'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** A gauge whose value(s) are read when Prometheus scrapes. */
  gauge<L extends string>(name: string, help: string, labelNames: readonly L[], read: (g: Gauge<L>) => Promise<void> | void): Gauge<L> {
    return new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [this.registry],
      async collect() {
        await read(this);
      },
    });
  }
}
