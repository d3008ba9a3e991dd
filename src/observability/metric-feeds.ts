import { Injectable, OnModuleInit } from '@nestjs/common';
import type { Delivery } from '../delivery/delivery.entity.js';
import { DeliveryOutcomes } from '../delivery/delivery-outcomes.js';
import { DeliveryStats } from '../delivery/delivery-stats.js';
import { EventLog } from '../events/event-log.js';
import { EventPublisher } from '../events/publisher.js';
import { ConnectionCounter, type Transport } from '../realtime/connection-counter.js';
import { RedisService } from '../redis/redis.service.js';
import { consumerGroupBacklogs } from './log-backlog.js';
import { PrometheusMetrics } from './prometheus-metrics.js';

const TRANSPORTS: Transport[] = ['sse', 'ws', 'socketio'];

/**
 * Wires live state into the Prometheus registry: publish and delivery counts as they happen (in the process doing the
 * work), gauges of shared state (queues, DLQ, workers, log backlog) read from Redis and SQL at scrape time.
 */
@Injectable()
export class MetricFeeds implements OnModuleInit {
  constructor(
    private readonly metrics: PrometheusMetrics,
    private readonly publisher: EventPublisher,
    private readonly connections: ConnectionCounter,
    private readonly redis: RedisService,
    private readonly log: EventLog,
    private readonly deliveryStats: DeliveryStats,
    private readonly deliveries: DeliveryOutcomes,
  ) {}

  onModuleInit(): void {
    this.publisher.onPublished((_org, results) => {
      for (const r of results) if (!r.duplicate) this.metrics.eventsPublished.inc({ type: r.event.type });
    });
    this.publisher.onRefused((_org, code) => this.metrics.publishRefused.inc({ reason: code }));
    this.metrics.gauge('humana_realtime_connections', 'Open real-time connections of this process, by transport', ['transport'], (g) => {
      const counts = this.connections.counts();
      for (const t of TRANSPORTS) g.set({ transport: t }, counts[t]);
    });
    this.metrics.gauge('humana_event_log_entries', 'Entries retained in the Redis Stream event log (all partitions)', [], async (g) => {
      const lengths = await Promise.all(this.log.streamKeys.map((k) => this.redis.client.xlen(k)));
      g.set(lengths.reduce((a, b) => a + b, 0));
    });
    this.metrics.gauge(
      'humana_event_log_backlog',
      'Log entries a consumer group has not processed yet (unread + unacknowledged)',
      ['group'],
      async (g) => {
        for (const b of await consumerGroupBacklogs(this.redis.client, this.log.streamKeys)) g.set({ group: b.group }, b.lag + b.pending);
      },
    );
    this.metrics.gauge('humana_delivery_queue_jobs', 'Webhook delivery jobs by state', ['state'], async (g) => {
      for (const [state, n] of Object.entries(await this.deliveryStats.queueCounts())) g.set({ state }, n);
    });
    this.metrics.gauge('humana_dead_letter_queue_entries', 'Entries in the dead letter queue (all organizations)', [], async (g) => {
      g.set(await this.deliveryStats.dlqSize());
    });
    this.metrics.gauge('humana_delivery_workers', 'Delivery workers with a fresh heartbeat', [], async (g) => {
      g.set((await this.deliveryStats.liveWorkers()).length);
    });
    this.deliveries.onRecord((row) => this.observeDelivery(row));
  }

  /** A recorded state with attempts carries a new attempt; success and failed are final. */
  private observeDelivery(row: Delivery): void {
    const last = row.attemptLog[row.attemptLog.length - 1];
    if (!last || row.status === 'pending') return;
    const { transport } = row;
    this.metrics.attemptDuration.observe({ outcome: last.error === null ? 'success' : 'failure', transport }, last.duration / 1000);
    if (row.status === 'success' || row.status === 'failed') this.metrics.deliveries.inc({ outcome: row.status, transport });
    if (row.status === 'success' && row.latencyMs !== null) this.metrics.deliveryLatency.observe({ transport }, row.latencyMs / 1000);
  }
}
