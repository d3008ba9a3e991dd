import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Append-only record of a management action (compliance log). Never updated or deleted by the API. */
@Entity('audit_log')
@Index('idx_audit_org_id', ['organizationId', 'id'])
export class AuditEntry {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id!: string;

  @Column({ name: 'organization_id', type: 'varchar', length: 64 })
  organizationId!: string;

  /** API key id, `admin`, or `system`. */
  @Column({ type: 'varchar', length: 64 })
  actor!: string;

  /** e.g. `webhook.created`, `api_key.revoked`, `dlq.retried`. */
  @Column({ type: 'varchar', length: 64 })
  action!: string;

  @Column({ name: 'resource_id', type: 'varchar', length: 64, nullable: true })
  resourceId!: string | null;

  @Column({ type: 'simple-json', nullable: true })
  before!: Record<string, unknown> | null;

  @Column({ type: 'simple-json', nullable: true })
  after!: Record<string, unknown> | null;

  @Column({ type: 'varchar', length: 32 })
  timestamp!: string;
}
