import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

const ts = (name: string, nullable = false) => ({ name, type: 'varchar', length: '32', isNullable: nullable });
const id = (name: string) => ({ name, type: 'varchar', length: '64' });

export class Webhooks1764374600000 implements MigrationInterface {
  name = 'Webhooks1764374600000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'webhooks',
        columns: [
          { ...id('id'), isPrimary: true },
          id('organization_id'),
          { name: 'url', type: 'varchar', length: '2048' },
          { name: 'events', type: 'text' },
          { name: 'secret', type: 'varchar', length: '256' },
          { name: 'previous_secret', type: 'varchar', length: '256', isNullable: true },
          ts('previous_secret_expires_at', true),
          { name: 'headers', type: 'text' },
          { name: 'filters', type: 'text', isNullable: true },
          { name: 'retry', type: 'text' },
          { name: 'description', type: 'varchar', length: '500', default: "''" },
          { name: 'enabled', type: 'boolean', default: true },
          { name: 'timeout_ms', type: 'integer' },
          { name: 'batch', type: 'text', isNullable: true },
          { name: 'transform', type: 'text', isNullable: true },
          ts('created_at'),
          ts('updated_at'),
        ],
        indices: [new TableIndex({ name: 'idx_webhooks_org_id', columnNames: ['organization_id', 'id'] })],
      }),
    );
    await q.createTable(
      new Table({
        name: 'webhook_deliveries',
        columns: [
          { ...id('id'), isPrimary: true },
          id('organization_id'),
          id('webhook_id'),
          id('event_id'),
          { name: 'event_type', type: 'varchar', length: '64' },
          { name: 'kind', type: 'varchar', length: '16' },
          { name: 'url', type: 'varchar', length: '2048' },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'status_code', type: 'integer', isNullable: true },
          { name: 'duration_ms', type: 'integer', isNullable: true },
          { name: 'attempts', type: 'integer', default: 0 },
          { name: 'attempt_log', type: 'text' },
          { name: 'error', type: 'text', isNullable: true },
          ts('event_published_at'),
          ts('created_at'),
          ts('updated_at'),
          ts('succeeded_at', true),
          { name: 'latency_ms', type: 'integer', isNullable: true },
          ts('next_attempt_at', true),
        ],
        indices: [
          new TableIndex({ name: 'idx_deliveries_webhook_id', columnNames: ['webhook_id', 'id'] }),
          new TableIndex({ name: 'idx_deliveries_org_updated', columnNames: ['organization_id', 'updated_at'] }),
          new TableIndex({ name: 'idx_deliveries_status_updated', columnNames: ['status', 'updated_at'] }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'dlq_entries',
        columns: [
          { ...id('id'), isPrimary: true },
          id('organization_id'),
          id('webhook_id'),
          id('delivery_id'),
          id('event_id'),
          { name: 'event_type', type: 'varchar', length: '64' },
          { name: 'original_webhook', type: 'text' },
          { name: 'event', type: 'text' },
          { name: 'attempts', type: 'text' },
          { name: 'failure_reason', type: 'text' },
          ts('created_at'),
          ts('last_attempt'),
        ],
        indices: [
          new TableIndex({ name: 'idx_dlq_org_id', columnNames: ['organization_id', 'id'] }),
          new TableIndex({ name: 'idx_dlq_created', columnNames: ['created_at'] }),
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('dlq_entries');
    await q.dropTable('webhook_deliveries');
    await q.dropTable('webhooks');
  }
}
