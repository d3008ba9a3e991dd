import { z } from 'zod';
import { responseSchema } from '../common/api-schemas.js';
import { METRIC_WINDOWS, type EventMetrics, type MetricWindow } from './event-metrics.service.js';
import type { EventSystemHealth } from './health.service.js';

const ms = z.number().nullable();

export const eventMetricsSchema = responseSchema<EventMetrics>()(
  'EventMetrics',
  z.object({
    organizationId: z.string(),
    webhookId: z.string().optional(),
    window: z.enum(Object.keys(METRIC_WINDOWS) as [MetricWindow, ...MetricWindow[]]),
    from: z.string(),
    to: z.string(),
    deliveryRate: z.object({ successful: z.number().int(), failed: z.number().int(), percentage: z.number().nullable() }),
    latency: z.object({ p50: ms, p95: ms, p99: ms, average: ms }).describe('publish → 2xx of successful deliveries, ms'),
    throughput: z
      .object({ eventsPerSecond: z.number(), peakThroughput: z.number(), averageThroughput: z.number() })
      .describe('deliveries finished (succeeded or failed for good) per second'),
    errors: z.object({
      byType: z.record(z.string(), z.number().int()),
      byStatusCode: z.record(z.number().int(), z.number().int()),
      retrySuccess: z.number().int(),
    }),
    byTransport: z
      .record(z.string(), z.object({ successful: z.number().int(), failed: z.number().int() }))
      .describe('finished deliveries by transport (http, amqp, nats, mqtt, redis, smtp)'),
    variants: z
      .array(
        z.object({
          url: z.string(),
          successful: z.number().int(),
          failed: z.number().int(),
          successRate: z.number().nullable(),
          averageLatency: ms,
          averageDuration: ms,
        }),
      )
      .optional(),
  }),
);

const checkStatus = z.enum(['healthy', 'degraded', 'unhealthy']);
const count = z.number().int();

export const eventSystemHealthSchema = responseSchema<EventSystemHealth>()(
  'EventSystemHealth',
  z.object({
    status: checkStatus,
    checks: z.record(z.string(), checkStatus),
    metrics: z.object({
      active_webhooks: count.nullable(),
      active_sse_connections: count,
      active_websocket_connections: count,
      pending_events: count.nullable(),
      dead_letter_queue_size: count.nullable(),
      delivery_workers: count.nullable(),
    }),
    errors: z.record(z.string(), z.string()).optional(),
  }),
);
