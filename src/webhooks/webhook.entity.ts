import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { jsonText, secretTransformer } from '../common/secret-box.js';
import type { WebhookFilters } from './filters.js';

export interface RetryPolicy {
  maxAttempts: number;
  backoffMultiplier: number;
  /** Seconds. */
  maxDelay: number;
}

export type WebhookFormat = 'standard' | 'slack' | 'pagerduty';

export interface FormatOptions {
  routingKey?: string;
  source?: string;
  severity?: 'critical' | 'error' | 'warning' | 'info';
}

export interface BatchOptions {
  maxSize: number;
  maxWaitMs: number;
}

/** Delivery engine options (contract section 8); see docs/delivery-engine.md. */
export interface CircuitBreakerOptions {
  failureThreshold: number;
  probeIntervalMs: number;
}
export interface AutoDisableOptions {
  afterMs: number;
  minFailures: number;
}
export interface RateLimitOptions {
  perSecond: number;
}
export interface OrderingOptions {
  /** A dotted `data` path, or `*` for the whole endpoint. */
  key: string;
}
export interface Variant {
  url: string;
  weight: number;
}

/** A webhook subscription of one organization. */
@Entity('webhooks')
@Index('idx_webhooks_org_id', ['organizationId', 'id'])
export class Webhook {
  /** wh_… */
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id!: string;

  @Column({ name: 'organization_id', type: 'varchar', length: 64 })
  organizationId!: string;

  /** Plaintext in memory, sealed in SQL: broker and SMTP URLs carry credentials (migration 0010). */
  @Column({ type: 'text', transformer: secretTransformer })
  url!: string;

  /** Exact types or patterns (`message.*`, `*`). */
  @Column({ type: 'simple-json' })
  events!: string[];

  /** Plaintext in memory, sealed (`enc:v1:…`) in SQL. */
  @Column({ type: 'text', transformer: secretTransformer })
  secret!: string;

  /** Still accepted (signed alongside the new one) until previousSecretExpiresAt. */
  @Column({ name: 'previous_secret', type: 'text', nullable: true, transformer: secretTransformer })
  previousSecret!: string | null;

  @Column({ name: 'previous_secret_expires_at', type: 'varchar', length: 32, nullable: true })
  previousSecretExpiresAt!: string | null;

  @Column({ type: 'simple-json' })
  headers!: Record<string, string>;

  /** dotted data path → values or an operator object (filters.ts); null = every event of the subscribed types. */
  @Column({ type: 'simple-json', nullable: true })
  filters!: WebhookFilters | null;

  @Column({ type: 'simple-json' })
  retry!: RetryPolicy;

  @Column({ type: 'varchar', length: 500, default: '' })
  description!: string;

  @Column({ type: 'boolean', default: true })
  enabled!: boolean;

  @Column({ name: 'timeout_ms', type: 'integer' })
  timeoutMs!: number;

  @Column({ type: 'simple-json', nullable: true })
  batch!: BatchOptions | null;

  /** JSONata expression over the envelope producing the body. */
  @Column({ type: 'text', nullable: true })
  transform!: string | null;

  // ── Delivery engine (migration 0006) ──
  @Column({ type: 'boolean', default: false })
  paused!: boolean;

  @Column({ name: 'disabled_at', type: 'varchar', length: 32, nullable: true })
  disabledAt!: string | null;

  @Column({ name: 'disabled_reason', type: 'text', nullable: true })
  disabledReason!: string | null;

  /** null = the defaults (on). */
  @Column({ name: 'circuit_breaker', type: 'simple-json', nullable: true })
  circuitBreaker!: CircuitBreakerOptions | null;

  @Column({ name: 'auto_disable', type: 'simple-json', nullable: true })
  autoDisable!: AutoDisableOptions | null;

  @Column({ name: 'rate_limit', type: 'simple-json', nullable: true })
  rateLimit!: RateLimitOptions | null;

  @Column({ type: 'simple-json', nullable: true })
  ordering!: OrderingOptions | null;

  /** Sealed in SQL as a whole, like `url` (variant URLs may carry credentials too). */
  @Column({ type: 'text', nullable: true, transformer: [jsonText, secretTransformer] })
  variants!: Variant[] | null;
  /** Body format for http(s) URLs: the envelope (`standard`), a Slack message or a PagerDuty Events v2 event. */
  @Column({ type: 'varchar', length: 16, default: 'standard' })
  format!: WebhookFormat;

  @Column({ name: 'format_options', type: 'simple-json', nullable: true })
  formatOptions!: FormatOptions | null;

  @Column({ name: 'created_at', type: 'varchar', length: 32 })
  createdAt!: string;

  /**
   * The event log's last stream id when the webhook was created: it receives exactly the events appended after this
   * position (null on rows created before the column existed: events timestamped at or after createdAt).
   */
  @Column({ name: 'created_at_stream_id', type: 'varchar', length: 32, nullable: true })
  createdAtStreamId!: string | null;

  @Column({ name: 'updated_at', type: 'varchar', length: 32 })
  updatedAt!: string;
}
