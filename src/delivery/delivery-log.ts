import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js';
import { Delivery } from './delivery.entity.js';
import { DlqEntry } from './dlq-entry.entity.js';

export const FLUSH_INTERVAL_MS = 100;
const FLUSH_ROWS = 1000;
const CHUNK = 200;

const DELIVERY_UPDATABLE = [
  'url', 'status', 'status_code', 'duration_ms', 'attempts', 'attempt_log', 'error', 'updated_at', 'succeeded_at', 'latency_ms', 'next_attempt_at',
];
const DLQ_UPDATABLE = ['original_webhook', 'event', 'attempts', 'failure_reason', 'last_attempt'];

interface Waiter {
  resolve(): void;
  reject(err: Error): void;
}

/**
 * The delivery log's only writer: rows are buffered and written in one transaction every 100 ms (or every 1000 rows),
 * as multi-row upserts. record() resolves once its row is committed, so a job completes only after its log is durable,
 * without a SQL round trip per delivery.
 */
@Injectable()
export class DeliveryLog implements BeforeApplicationShutdown {
  private readonly logger = new Logger('DeliveryLog');
  private deliveries = new Map<string, Delivery>();
  private dlq = new Map<string, DlqEntry>();
  private waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  /** Rows committed (metrics). */
  written = 0;

  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** Upserts a delivery row (the latest state of one delivery wins within a flush). */
  record(row: Delivery): Promise<void> {
    this.deliveries.set(row.id, row);
    return this.enqueue();
  }

  recordDlq(entry: DlqEntry): Promise<void> {
    this.dlq.set(entry.id, entry);
    return this.enqueue();
  }

  private enqueue(): Promise<void> {
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (this.deliveries.size + this.dlq.size >= FLUSH_ROWS) this.flush();
    else if (!this.timer) this.timer = setTimeout(() => this.flush(), FLUSH_INTERVAL_MS);
    return done;
  }

  /** Writes everything buffered so far; resolves when it is committed. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const deliveries = [...this.deliveries.values()];
    const dlq = [...this.dlq.values()];
    const waiters = this.waiters;
    this.deliveries = new Map();
    this.dlq = new Map();
    this.waiters = [];
    // Flushes run one after another so a delivery's later state is never overwritten by an earlier one.
    this.flushing = this.flushing.then(async () => {
      if (!deliveries.length && !dlq.length) return waiters.forEach((w) => w.resolve());
      try {
        await this.ds.transaction((m) => this.write(m, deliveries, dlq));
        this.written += deliveries.length + dlq.length;
        waiters.forEach((w) => w.resolve());
      } catch (err) {
        this.logger.error(`delivery log write failed (${deliveries.length + dlq.length} rows): ${(err as Error).message}`);
        waiters.forEach((w) => w.reject(err as Error));
      }
    });
    return this.flushing;
  }

  private async write(m: EntityManager, deliveries: Delivery[], dlq: DlqEntry[]): Promise<void> {
    for (let i = 0; i < deliveries.length; i += CHUNK) {
      await m.createQueryBuilder().insert().into(Delivery).values(deliveries.slice(i, i + CHUNK)).orUpdate(DELIVERY_UPDATABLE, ['id']).execute();
    }
    for (let i = 0; i < dlq.length; i += CHUNK) {
      await m.createQueryBuilder().insert().into(DlqEntry).values(dlq.slice(i, i + CHUNK) as QueryDeepPartialEntity<DlqEntry>[]).orUpdate(DLQ_UPDATABLE, ['id']).execute();
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.flush().catch(() => undefined);
  }
}
