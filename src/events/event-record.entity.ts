import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** The SQL copy of the event log: history, replay and resume beyond the stream's retained window. */
@Entity('events')
@Index('idx_events_org_id', ['organizationId', 'id'])
@Index('idx_events_org_type_id', ['organizationId', 'type', 'id'])
@Index('idx_events_org_companion_id', ['organizationId', 'companionId', 'id'])
@Index('idx_events_org_user_id', ['organizationId', 'userId', 'id'])
export class EventRecord {
  /** evt_… (encodes the stream id, so ordering by id is ordering by log position). */
  @PrimaryColumn({ type: 'varchar', length: 32 })
  id!: string;

  @Column({ name: 'organization_id', type: 'varchar', length: 64 })
  organizationId!: string;

  @Column({ type: 'varchar', length: 64 })
  type!: string;

  @Column({ name: 'companion_id', type: 'varchar', length: 256, nullable: true })
  companionId!: string | null;

  @Column({ name: 'user_id', type: 'varchar', length: 256, nullable: true })
  userId!: string | null;

  @Column({ type: 'varchar', length: 32 })
  timestamp!: string;

  @Column({ type: 'text' })
  data!: string;
}
