import { TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/** `webhook_deliveries (organization_id, event_id, id)`: an event's deliveries (GET /api/v1/events/{id}/deliveries). */
export class DeliveriesByEvent1764375400000 implements MigrationInterface {
  name = 'DeliveriesByEvent1764375400000';

  async up(q: QueryRunner): Promise<void> {
    await q.createIndex(
      'webhook_deliveries',
      new TableIndex({ name: 'idx_deliveries_org_event', columnNames: ['organization_id', 'event_id', 'id'] }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex('webhook_deliveries', 'idx_deliveries_org_event');
  }
}
