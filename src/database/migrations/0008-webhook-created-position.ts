import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * `webhooks.created_at_stream_id`: the event log position (last stream id) when the webhook was created. The matcher
 * delivers exactly the events appended after it (src/delivery/webhook-matcher.ts). Null for older rows, which keep the
 * previous rule (event timestamp not before `created_at`).
 */
export class WebhookCreatedPosition1764375200000 implements MigrationInterface {
  name = 'WebhookCreatedPosition1764375200000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('webhooks', new TableColumn({ name: 'created_at_stream_id', type: 'varchar', length: '32', isNullable: true }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('webhooks', 'created_at_stream_id');
  }
}
