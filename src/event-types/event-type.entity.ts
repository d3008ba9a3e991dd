import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** An organization's own event type: name, JSON Schema (draft 2020-12) and examples, current version only. */
@Entity('event_types')
@Index('idx_event_types_org_name', ['organizationId', 'name'], { unique: true })
export class EventTypeRow {
  /** et_… */
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id!: string;

  @Column({ name: 'organization_id', type: 'varchar', length: 64 })
  organizationId!: string;

  @Column({ type: 'varchar', length: 64 })
  name!: string;

  @Column({ type: 'varchar', length: 500, default: '' })
  description!: string;

  @Column({ type: 'simple-json' })
  schema!: Record<string, unknown>;

  @Column({ type: 'simple-json' })
  examples!: Record<string, unknown>[];

  /** 1 on creation, +1 on every schema change. */
  @Column({ type: 'integer' })
  version!: number;

  @Column({ name: 'created_at', type: 'varchar', length: 32 })
  createdAt!: string;

  @Column({ name: 'updated_at', type: 'varchar', length: 32 })
  updatedAt!: string;
}
