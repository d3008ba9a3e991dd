import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { z } from 'zod';
import type { Repository, SelectQueryBuilder } from 'typeorm';
import type { AttemptRecord, FailureKind } from '../delivery/delivery.entity.js';
import { Delivery } from '../delivery/delivery.entity.js';

export const METRIC_WINDOWS = { '1m': 60_000, '5m': 300_000, '15m': 900_000, '1h': 3_600_000, '24h': 86_400_000 } as const;
export type MetricWindow = keyof typeof METRIC_WINDOWS;

export const metricsQuerySchema = z.strictObject({
  // An empty parameter means not set (as the console sends it).
  window: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.enum(Object.keys(METRIC_WINDOWS) as [MetricWindow, ...MetricWindow[]]).default('1h'),
  ),
});

/** The seed's `EventMetrics`, for one organization (or one webhook) over a window; null where the window has no data. */
export interface EventMetrics {
  organizationId: string;
  webhookId?: string;
  window: MetricWindow;
  from: string;
  to: string;
  deliveryRate: { successful: number; failed: number; percentage: number | null };
  /** Publish → 2xx response of successful deliveries, ms. */
  latency: { p50: number | null; p95: number | null; p99: number | null; average: number | null };
  /** Deliveries finished (succeeded or failed for good) per second. */
  throughput: { eventsPerSecond: number; peakThroughput: number; averageThroughput: number };
  errors: { byType: Record<string, number>; byStatusCode: Record<number, number>; retrySuccess: number };
  /** Finished deliveries by the transport their URL's scheme chose (`http`, `amqp`, `nats`, `mqtt`, `redis`, `smtp`). */
  byTransport: Record<string, { successful: number; failed: number }>;
  /** One webhook's A/B variants (option `variants`): outcomes and latency per variant URL. */
  variants?: VariantMetrics[];
}

export interface VariantMetrics {
  url: string;
  successful: number;
  failed: number;
  /** Success rate in percent, null without finished deliveries. */
  successRate: number | null;
  /** Publish → 2xx of successful deliveries, ms (average). */
  averageLatency: number | null;
  /** Last attempt's response time, ms (average over finished deliveries). */
  averageDuration: number | null;
}

interface Range {
  organizationId: string;
  webhookId?: string;
  /** ISO times, inclusive. */
  from: string;
  to: string;
}

export interface DeliverySummary {
  successful: number;
  failed: number;
  retrySuccess: number;
  latency: EventMetrics['latency'];
}

/** "Now" in `throughput.eventsPerSecond`: the last seconds of the window. */
const RECENT_MS = 10_000;
const round2 = (n: number) => Math.round(n * 100) / 100;

/** The failure kind the sender recorded; attempts logged before kinds were kept count by status code, else unknown. */
export function errorType(a: Pick<AttemptRecord, 'statusCode' | 'errorKind'>): FailureKind | 'unknown' {
  if (a.errorKind) return a.errorKind;
  if (a.statusCode === null) return 'unknown';
  if (a.statusCode >= 300 && a.statusCode < 400) return 'redirect';
  return a.statusCode >= 500 ? 'http_5xx' : 'http_4xx';
}

/** Nearest-rank percentile position (1-based) among n sorted values. */
export function percentileRank(p: number, n: number): number {
  return Math.max(1, Math.ceil((p / 100) * n));
}

/**
 * Delivery metrics computed from the delivery log (`webhook_deliveries`), so they cover every worker process and
 * survive restarts. A delivery counts in the window it finished in (its last update); test sends are left out.
 */
@Injectable()
export class EventMetricsService {
  constructor(@InjectRepository(Delivery) private readonly deliveries: Repository<Delivery>) {}

  async compute(organizationId: string, window: MetricWindow, webhookId?: string, now = Date.now()): Promise<EventMetrics> {
    const windowMs = METRIC_WINDOWS[window];
    const range = { organizationId, webhookId, from: new Date(now - windowMs).toISOString(), to: new Date(now).toISOString() };
    const [summary, throughput, errors, byTransport, variants] = await Promise.all([
      this.summary(range),
      this.throughput(range, windowMs, now),
      this.errors(range),
      this.byTransport(range),
      webhookId ? this.variants(range) : undefined,
    ]);
    const { successful, failed } = summary;
    return {
      organizationId,
      ...(webhookId ? { webhookId } : {}),
      window,
      from: range.from,
      to: range.to,
      deliveryRate: { successful, failed, percentage: successful + failed ? round2((successful * 100) / (successful + failed)) : null },
      latency: summary.latency,
      throughput,
      errors: { ...errors, retrySuccess: summary.retrySuccess },
      byTransport,
      ...(variants?.length ? { variants } : {}),
    };
  }

  /** Per A/B variant of one webhook: success rate and latency (deliveries with a recorded variant). */
  async variants(range: Range): Promise<VariantMetrics[]> {
    const rows = await this.scoped(range)
      .andWhere('d.variant IS NOT NULL')
      .andWhere("d.status IN ('success', 'failed')")
      .select('d.variant', 'url')
      .addSelect("SUM(CASE WHEN d.status = 'success' THEN 1 ELSE 0 END)", 'successful')
      .addSelect("SUM(CASE WHEN d.status = 'failed' THEN 1 ELSE 0 END)", 'failed')
      .addSelect("AVG(CASE WHEN d.status = 'success' THEN d.latency_ms END)", 'latency')
      .addSelect('AVG(d.duration_ms)', 'duration')
      .groupBy('d.variant')
      .orderBy('d.variant')
      .getRawMany<Record<string, string | number | null>>();
    const num = (v: string | number | null | undefined) => Number(v ?? 0);
    const avg = (v: string | number | null | undefined) => (v === null || v === undefined ? null : round2(Number(v)));
    return rows.map((r) => {
      const successful = num(r.successful);
      const failed = num(r.failed);
      return {
        url: String(r.url),
        successful,
        failed,
        successRate: successful + failed ? round2((successful * 100) / (successful + failed)) : null,
        averageLatency: avg(r.latency),
        averageDuration: avg(r.duration),
      };
    });
  }

  /** Outcomes of the finished deliveries per transport. */
  private async byTransport(range: Range): Promise<EventMetrics['byTransport']> {
    const rows = await this.scoped(range)
      .andWhere("d.status IN ('success', 'failed')")
      .select('d.transport', 'transport')
      .addSelect("SUM(CASE WHEN d.status = 'success' THEN 1 ELSE 0 END)", 'successful')
      .addSelect("SUM(CASE WHEN d.status = 'failed' THEN 1 ELSE 0 END)", 'failed')
      .groupBy('d.transport')
      .orderBy('d.transport')
      .getRawMany<{ transport: string; successful: string | number; failed: string | number }>();
    return Object.fromEntries(rows.map((r) => [r.transport, { successful: Number(r.successful), failed: Number(r.failed) }]));
  }

  /** Outcomes and latency of the deliveries one organization (or webhook) finished in a time range. */
  async summary(range: Range): Promise<DeliverySummary> {
    const totals = await this.scoped(range)
      .select("SUM(CASE WHEN d.status = 'success' THEN 1 ELSE 0 END)", 'successful')
      .addSelect("SUM(CASE WHEN d.status = 'failed' THEN 1 ELSE 0 END)", 'failed')
      .addSelect("SUM(CASE WHEN d.status = 'success' AND d.attempts > 1 THEN 1 ELSE 0 END)", 'retrySuccess')
      .addSelect("SUM(CASE WHEN d.status = 'success' AND d.latency_ms IS NOT NULL THEN 1 ELSE 0 END)", 'timed')
      .addSelect("AVG(CASE WHEN d.status = 'success' THEN d.latency_ms END)", 'average')
      .getRawOne<Record<string, string | number | null>>();
    const num = (v: string | number | null | undefined) => Number(v ?? 0);
    return {
      successful: num(totals?.successful),
      failed: num(totals?.failed),
      retrySuccess: num(totals?.retrySuccess),
      latency: await this.latency(range, num(totals?.timed), totals?.average),
    };
  }

  /** Organizations that finished at least `min` deliveries in the range (the performance monitor's candidates). */
  async busyOrganizations(from: string, to: string, min: number): Promise<string[]> {
    const rows = await this.deliveries
      .createQueryBuilder('d')
      .select('d.organization_id', 'organizationId')
      .where('d.updated_at >= :from AND d.updated_at <= :to', { from, to })
      .andWhere("d.kind <> 'test' AND d.status IN ('success', 'failed')")
      .groupBy('d.organization_id')
      .having('COUNT(*) >= :min', { min })
      .getRawMany<{ organizationId: string }>();
    return rows.map((r) => r.organizationId);
  }

  private scoped({ organizationId, webhookId, from, to }: Range): SelectQueryBuilder<Delivery> {
    const qb = this.deliveries
      .createQueryBuilder('d')
      .where('d.organization_id = :org', { org: organizationId })
      .andWhere('d.updated_at >= :from AND d.updated_at <= :to', { from, to })
      .andWhere("d.kind <> 'test'");
    if (webhookId) qb.andWhere('d.webhook_id = :wh', { wh: webhookId });
    return qb;
  }

  private async latency(range: Range, n: number, average: string | number | null | undefined): Promise<EventMetrics['latency']> {
    if (!n) return { p50: null, p95: null, p99: null, average: null };
    const at = async (p: number) => {
      const row = await this.scoped(range)
        .select('d.latency_ms', 'latency')
        .andWhere("d.status = 'success' AND d.latency_ms IS NOT NULL")
        .orderBy('d.latency_ms', 'ASC')
        .offset(percentileRank(p, n) - 1)
        .limit(1)
        .getRawOne<{ latency: number | string }>();
      return Number(row?.latency);
    };
    const [p50, p95, p99] = await Promise.all([at(50), at(95), at(99)]);
    return { p50, p95, p99, average: Math.round(Number(average)) };
  }

  /** Per-second counts of finished deliveries (grouped by the ISO second of their last update). */
  private async throughput(range: Range, windowMs: number, now: number): Promise<EventMetrics['throughput']> {
    const rows = await this.scoped(range)
      .select('SUBSTR(d.updated_at, 1, 19)', 'second')
      .addSelect('COUNT(*)', 'n')
      .andWhere("d.status IN ('success', 'failed')")
      .groupBy('SUBSTR(d.updated_at, 1, 19)')
      .getRawMany<{ second: string; n: string | number }>();
    let total = 0;
    let peak = 0;
    let recent = 0;
    const recentFrom = now - Math.min(RECENT_MS, windowMs);
    for (const { second, n } of rows) {
      const count = Number(n);
      total += count;
      peak = Math.max(peak, count);
      if (Date.parse(`${second}Z`) + 1000 > recentFrom) recent += count;
    }
    return {
      eventsPerSecond: round2(recent / (Math.min(RECENT_MS, windowMs) / 1000)),
      peakThroughput: peak,
      averageThroughput: round2(total / (windowMs / 1000)),
    };
  }

  /** Failed attempts made in the window (retried or final), by kind and by HTTP status. */
  private async errors(range: Range): Promise<Omit<EventMetrics['errors'], 'retrySuccess'>> {
    const rows = await this.scoped(range)
      .select('d.attempt_log', 'attemptLog')
      .andWhere("(d.status <> 'success' OR d.attempts > 1)")
      .getRawMany<{ attemptLog: string }>();
    const byType: Record<string, number> = {};
    const byStatusCode: Record<number, number> = {};
    for (const { attemptLog } of rows) {
      for (const a of JSON.parse(attemptLog) as AttemptRecord[]) {
        if (a.error === null || a.timestamp < range.from) continue;
        const type = errorType(a);
        byType[type] = (byType[type] ?? 0) + 1;
        if (a.statusCode !== null) byStatusCode[a.statusCode] = (byStatusCode[a.statusCode] ?? 0) + 1;
      }
    }
    return { byType, byStatusCode };
  }
}
