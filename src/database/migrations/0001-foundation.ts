import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

const ts = (name: string, nullable = false) => ({ name, type: 'varchar', length: '32', isNullable: nullable });

export class Foundation1764374400000 implements MigrationInterface {
  name = 'Foundation1764374400000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'organizations',
        columns: [
          { name: 'id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'name', type: 'varchar', length: '200' },
          { name: 'limits', type: 'text', default: "'{}'" },
          ts('created_at'),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'api_keys',
        columns: [
          { name: 'id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'organization_id', type: 'varchar', length: '64' },
          { name: 'name', type: 'varchar', length: '200', default: "''" },
          { name: 'key_hash', type: 'varchar', length: '64' },
          { name: 'key_prefix', type: 'varchar', length: '16' },
          { name: 'scopes', type: 'text' },
          ts('created_at'),
          ts('revoked_at', true),
        ],
        indices: [
          new TableIndex({ name: 'idx_api_keys_org', columnNames: ['organization_id'] }),
          new TableIndex({ name: 'idx_api_keys_hash', columnNames: ['key_hash'], isUnique: true }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'events',
        columns: [
          { name: 'id', type: 'varchar', length: '32', isPrimary: true },
          { name: 'organization_id', type: 'varchar', length: '64' },
          { name: 'type', type: 'varchar', length: '64' },
          { name: 'companion_id', type: 'varchar', length: '256', isNullable: true },
          { name: 'user_id', type: 'varchar', length: '256', isNullable: true },
          ts('timestamp'),
          { name: 'data', type: 'text' },
        ],
        indices: [
          new TableIndex({ name: 'idx_events_org_id', columnNames: ['organization_id', 'id'] }),
          new TableIndex({ name: 'idx_events_org_type_id', columnNames: ['organization_id', 'type', 'id'] }),
          new TableIndex({ name: 'idx_events_org_companion_id', columnNames: ['organization_id', 'companion_id', 'id'] }),
          new TableIndex({ name: 'idx_events_org_user_id', columnNames: ['organization_id', 'user_id', 'id'] }),
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('events');
    await q.dropTable('api_keys');
    await q.dropTable('organizations');
  }
}
