import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

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

/** A webhook subscription of one organization. */
@Entity('webhooks')
@Index('idx_webhooks_org_id', ['organizationId', 'id'])
export class Webhook {
  /** wh_… */
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id!: string;

  @Column({ name: 'organization_id', type: 'varchar', length: 64 })
  organizationId!: string;

  @Column({ type: 'varchar', length: 2048 })
  url!: string;

  /** Exact types or patterns (`message.*`, `*`). */
  @Column({ type: 'simple-json' })
  events!: string[];

  @Column({ type: 'varchar', length: 256 })
  secret!: string;

  /** Still accepted (signed alongside the new one) until previousSecretExpiresAt. */
  @Column({ name: 'previous_secret', type: 'varchar', length: 256, nullable: true })
  previousSecret!: string | null;

  @Column({ name: 'previous_secret_expires_at', type: 'varchar', length: 32, nullable: true })
  previousSecretExpiresAt!: string | null;

  @Column({ type: 'simple-json' })
  headers!: Record<string, string>;

  /** data field → value patterns; null = every event of the subscribed types. */
  @Column({ type: 'simple-json', nullable: true })
  filters!: Record<string, string[]> | null;

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

  /** Body format for http(s) URLs: the envelope (`standard`), a Slack message or a PagerDuty Events v2 event. */
  @Column({ type: 'varchar', length: 16, default: 'standard' })
  format!: WebhookFormat;

  @Column({ name: 'format_options', type: 'simple-json', nullable: true })
  formatOptions!: FormatOptions | null;

  @Column({ name: 'created_at', type: 'varchar', length: 32 })
  createdAt!: string;

  @Column({ name: 'updated_at', type: 'varchar', length: 32 })
  updatedAt!: string;
}
