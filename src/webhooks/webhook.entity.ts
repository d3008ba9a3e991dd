import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { secretTransformer } from '../common/secret-box.js';
import type { WebhookFilters } from './filters.js';

export interface RetryPolicy {
  maxAttempts: number;
  backoffMultiplier: number;
  /** Seconds. */
  maxDelay: number;
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
