import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js';
import { Delivery } from './delivery.entity.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { isSqlite } from '../database/data-source-options.js';
import { DeliveryOutcomes } from './delivery-outcomes.js';
import { DlqEntry } from './dlq-entry.entity.js';
import { SqliteWriter } from './sqlite-writer.js';

/**
 * A fan-out job holds its BullMQ slot until its rows are committed (crash guarantee): this interval bounds how long a
 * finished job keeps a slot, so job slots turn over steadily (fairness: a quiet organization's job waits for one).
 */
export const FLUSH_INTERVAL_MS = 20;
const FLUSH_ROWS = 1000;
const CHUNK = 200;

/** Column → value of a delivery row, in insert order. */
const DELIVERY_COLUMNS: [string, (d: Delivery) => unknown][] = [
  ['id', (d) => d.id],
  ['organization_id', (d) => d.organizationId],
  ['webhook_id', (d) => d.webhookId],
  ['event_id', (d) => d.eventId],
  ['event_type', (d) => d.eventType],
  ['kind', (d) => d.kind],
  ['url', (d) => d.url],
  ['transport', (d) => d.transport],
  ['status', (d) => d.status],
  ['status_code', (d) => d.statusCode],
  ['duration_ms', (d) => d.durationMs],
  ['attempts', (d) => d.attempts],
  ['attempt_log', (d) => JSON.stringify(d.attemptLog)],
  ['error', (d) => d.error],
  ['event_published_at', (d) => d.eventPublishedAt],
  ['created_at', (d) => d.createdAt],
  ['updated_at', (d) => d.updatedAt],
  ['succeeded_at', (d) => d.succeededAt],
  ['latency_ms', (d) => d.latencyMs],
  ['next_attempt_at', (d) => d.nextAttemptAt],
  ['variant', (d) => d.variant],
  ['sequence', (d) => d.sequence],
];
const DELIVERY_UPDATABLE = [
  'url',
  'transport',
  'status',
  'status_code',
  'duration_ms',
  'attempts',
  'attempt_log',
  'error',
  'updated_at',
  'succeeded_at',
  'latency_ms',
  'next_attempt_at',
  'variant',
  'sequence',
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
export class DeliveryLog implements BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('DeliveryLog');
  private deliveries = new Map<string, Delivery>();
  private dlq = new Map<string, DlqEntry>();
  private waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

  private readonly upsertSql = new Map<number, string>();
  /** SQLite: delivery rows are written by a thread of their own (better-sqlite3 blocks the thread it runs on). */
  private readonly thread: SqliteWriter | null;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly outcomes: DeliveryOutcomes,
  ) {
    const file = isSqlite(config.databaseUrl) ? config.databaseUrl.slice('sqlite:'.length) : ':memory:';
    this.thread = file !== ':memory:' ? new SqliteWriter(file) : null;
  }

  /**
   * One multi-row upsert per chunk, written by hand: TypeORM's query builder costs more CPU than the deliveries
   * themselves at thousands of rows per second. A row never replaces a state with more attempts (out-of-order
   * writes from two workers). The SQL of each chunk size is built once (and cached as a prepared statement).
   */
  private deliveryUpsert(rows: number): string {
    let sql = this.upsertSql.get(rows);
    if (sql) return sql;
    const pg = this.ds.options.type === 'postgres';
    const table = this.ds
      .getMetadata(Delivery)
      .tablePath.split('.')
      .map((part) => `"${part}"`)
      .join('.');
    const width = DELIVERY_COLUMNS.length;
    const values = Array.from(
      { length: rows },
      (_, r) => `(${DELIVERY_COLUMNS.map((_c, i) => (pg ? `$${r * width + i + 1}` : '?')).join(',')})`,
    ).join(',');
    sql =
      `INSERT INTO ${table} AS d (${DELIVERY_COLUMNS.map(([c]) => `"${c}"`).join(',')}) VALUES ${values} ` +
      `ON CONFLICT ("id") DO UPDATE SET ${DELIVERY_UPDATABLE.map((c) => `"${c}" = excluded."${c}"`).join(', ')} WHERE excluded."attempts" >= d."attempts"`;
    this.upsertSql.set(rows, sql);
    return sql;
  }

  /** Upserts a delivery row (the latest state of one delivery wins within a flush). */
  record(row: Delivery): Promise<void> {
    this.outcomes.recorded(row);
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
        const onMain = this.thread ? [] : deliveries;
        await Promise.all([
          this.thread && deliveries.length ? this.thread.run(this.deliveryStatements(deliveries)) : undefined,
          onMain.length || dlq.length ? this.ds.transaction((m) => this.write(m, onMain, dlq)) : undefined,
        ]);
        waiters.forEach((w) => w.resolve());
      } catch (err) {
        this.logger.error(`delivery log write failed (${deliveries.length + dlq.length} rows): ${(err as Error).message}`);
        waiters.forEach((w) => w.reject(err as Error));
      }
    });
    return this.flushing;
  }

  private deliveryStatements(deliveries: Delivery[]): { sql: string; params: unknown[] }[] {
    const out: { sql: string; params: unknown[] }[] = [];
    for (let i = 0; i < deliveries.length; i += CHUNK) {
      const chunk = deliveries.slice(i, i + CHUNK);
      const params: unknown[] = [];
      for (const d of chunk) for (const [, value] of DELIVERY_COLUMNS) params.push(value(d));
      out.push({ sql: this.deliveryUpsert(chunk.length), params });
    }
    return out;
  }

  private async write(m: EntityManager, deliveries: Delivery[], dlq: DlqEntry[]): Promise<void> {
    for (const { sql, params } of this.deliveryStatements(deliveries)) await m.query(sql, params);
    for (let i = 0; i < dlq.length; i += CHUNK) {
      await m
        .createQueryBuilder()
        .insert()
        .into(DlqEntry)
        .values(dlq.slice(i, i + CHUNK) as QueryDeepPartialEntity<DlqEntry>[])
        .orUpdate(DLQ_UPDATABLE, ['id'])
        .execute();
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.flush().catch(() => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.thread?.close();
  }
}
