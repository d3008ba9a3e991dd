import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

export class AuditLog1764374500000 implements MigrationInterface {
  name = 'AuditLog1764374500000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'audit_log',
        columns: [
          { name: 'id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'organization_id', type: 'varchar', length: '64' },
          { name: 'actor', type: 'varchar', length: '64' },
          { name: 'action', type: 'varchar', length: '64' },
          { name: 'resource_id', type: 'varchar', length: '64', isNullable: true },
          { name: 'before', type: 'text', isNullable: true },
          { name: 'after', type: 'text', isNullable: true },
          { name: 'timestamp', type: 'varchar', length: '32' },
        ],
        indices: [new TableIndex({ name: 'idx_audit_org_id', columnNames: ['organization_id', 'id'] })],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('audit_log');
  }
}
