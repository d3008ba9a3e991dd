import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { Transport } from '../destinations/destination.js';

export type DeliveryStatus = 'pending' | 'success' | 'retrying' | 'failed';

/** One HTTP attempt of a delivery. */
/** Why an attempt failed, carried as data from the sender to the delivery log and metrics. */
export type FailureKind = 'timeout' | 'connection' | 'blocked' | 'broker' | 'rejected' | 'redirect' | 'http_4xx' | 'http_5xx' | 'transform';

export interface AttemptRecord {
  attempt: number;
  timestamp: string;
  statusCode: number | null;
  /** ms */
  duration: number;
  error: string | null;
  /** null on success; absent on attempts recorded before failure kinds were kept. */
  errorKind?: FailureKind | null;
  /** First 2 KiB of the response body. */
  responseBody: string;
}

/** What caused a delivery: the event log (matcher), a replay, a DLQ retry, a test, a batch window. */
export type DeliveryKind = 'event' | 'replay' | 'dlq_retry' | 'test' | 'batch';

/**
 * One delivery of one event (or one batch of events) to one webhook, with every attempt.
 * Written by the delivery worker in batches; the operations module reads it for metrics.
 */
@Entity('webhook_deliveries')
@Index('idx_deliveries_webhook_id', ['webhookId', 'id'])
@Index('idx_deliveries_org_updated', ['organizationId', 'updatedAt'])
@Index('idx_deliveries_org_event', ['organizationId', 'eventId', 'id'])
@Index('idx_deliveries_status_updated', ['status', 'updatedAt'])
export class Delivery {
  /** del_… (sorts by creation time). */
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id!: string;

  @Column({ name: 'organization_id', type: 'varchar', length: 64 })
  organizationId!: string;

  @Column({ name: 'webhook_id', type: 'varchar', length: 64 })
  webhookId!: string;

  /** The event id (`webhook-id` header); for a batch, the first event's id. */
  @Column({ name: 'event_id', type: 'varchar', length: 64 })
  eventId!: string;

  /** The event type, or `batch`. */
  @Column({ name: 'event_type', type: 'varchar', length: 64 })
  eventType!: string;

  @Column({ type: 'varchar', length: 16 })
  kind!: DeliveryKind;

  @Column({ type: 'varchar', length: 2048 })
  url!: string;

  /** The transport the URL's scheme chose (metrics by transport). */
  @Column({ type: 'varchar', length: 16, default: 'http' })
  transport!: Transport;

  @Column({ type: 'varchar', length: 16 })
  status!: DeliveryStatus;

  /** Of the last attempt. */
  @Column({ name: 'status_code', type: 'integer', nullable: true })
  statusCode!: number | null;

  /** Of the last attempt, ms. */
  @Column({ name: 'duration_ms', type: 'integer', nullable: true })
  durationMs!: number | null;

  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  @Column({ name: 'attempt_log', type: 'simple-json' })
  attemptLog!: AttemptRecord[];

  /** Of the last attempt. */
  @Column({ type: 'text', nullable: true })
  error!: string | null;

  /** When the event was published (envelope timestamp). */
  @Column({ name: 'event_published_at', type: 'varchar', length: 32 })
  eventPublishedAt!: string;

  @Column({ name: 'created_at', type: 'varchar', length: 32 })
  createdAt!: string;

  /** Time of the last change (last attempt). */
  @Column({ name: 'updated_at', type: 'varchar', length: 32 })
  updatedAt!: string;

  @Column({ name: 'succeeded_at', type: 'varchar', length: 32, nullable: true })
  succeededAt!: string | null;

  /** Publish → successful response, ms (end-to-end latency of a successful delivery). */
  @Column({ name: 'latency_ms', type: 'integer', nullable: true })
  latencyMs!: number | null;

  @Column({ name: 'next_attempt_at', type: 'varchar', length: 32, nullable: true })
  nextAttemptAt!: string | null;

  /** The A/B variant URL this delivery goes to (webhook option `variants`), else null. */
  @Column({ type: 'varchar', length: 2048, nullable: true })
  variant!: string | null;

  /** X-Humana-Sequence of an ordered delivery, else null. */
  @Column({ type: 'integer', nullable: true })
  sequence!: number | null;
}
