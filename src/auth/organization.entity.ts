import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity('organizations')
export class Organization {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id!: string;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  /** Per-organization limits (quotas, rate limits, connection caps); empty = unlimited. */
  @Column({ type: 'simple-json', default: '{}' })
  limits!: Record<string, number>;

  @Column({ name: 'created_at', type: 'varchar', length: 32 })
  createdAt!: string;
}
