import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

const ts = (name: string) => ({ name, type: 'varchar', length: '32' });

/** Organizations' own event types (JSON Schema per type, current version only). */
export class EventTypes1764374800000 implements MigrationInterface {
  name = 'EventTypes1764374800000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'event_types',
        columns: [
          { name: 'id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'organization_id', type: 'varchar', length: '64' },
          { name: 'name', type: 'varchar', length: '64' },
          { name: 'description', type: 'varchar', length: '500', default: "''" },
          { name: 'schema', type: 'text' },
          { name: 'examples', type: 'text' },
          { name: 'version', type: 'integer' },
          ts('created_at'),
          ts('updated_at'),
        ],
        indices: [new TableIndex({ name: 'idx_event_types_org_name', columnNames: ['organization_id', 'name'], isUnique: true })],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('event_types');
  }
}
