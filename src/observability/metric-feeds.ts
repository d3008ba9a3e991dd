import { Injectable, OnModuleInit } from '@nestjs/common';
import { EventLog } from '../events/event-log.js';
import { EventPublisher } from '../events/publisher.js';
import { ConnectionCounter, type Transport } from '../realtime/connection-counter.js';
import { RedisService } from '../redis/redis.service.js';
import { PrometheusMetrics } from './prometheus-metrics.js';

const TRANSPORTS: Transport[] = ['sse', 'ws', 'socketio'];

/** Wires live state into the Prometheus registry: publish counts as they happen, gauges read at scrape time. */
@Injectable()
export class MetricFeeds implements OnModuleInit {
  constructor(
    private readonly metrics: PrometheusMetrics,
    private readonly publisher: EventPublisher,
    private readonly connections: ConnectionCounter,
    private readonly redis: RedisService,
    private readonly log: EventLog,
  ) {}

  onModuleInit(): void {
    this.publisher.onPublished((_org, results) => {
      for (const r of results) if (!r.duplicate) this.metrics.eventsPublished.inc({ type: r.event.type });
    });
    this.metrics.gauge('humana_realtime_connections', 'Open real-time connections of this process, by transport', ['transport'], (g) => {
      const counts = this.connections.counts();
      for (const t of TRANSPORTS) g.set({ transport: t }, counts[t]);
    });
    this.metrics.gauge('humana_event_log_entries', 'Entries retained in the Redis Stream event log', [], async (g) => {
      g.set(await this.redis.client.xlen(this.log.streamKey));
    });
  }
}
