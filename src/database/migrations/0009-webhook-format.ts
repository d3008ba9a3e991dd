import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Destinations: a webhook's body format (standard, slack, pagerduty) and its options. */
export class WebhookFormat1764375000000 implements MigrationInterface {
  name = 'WebhookFormat1764375000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumns('webhooks', [
      new TableColumn({ name: 'format', type: 'varchar', length: '16', default: "'standard'" }),
      new TableColumn({ name: 'format_options', type: 'text', isNullable: true }),
    ]);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('webhooks', 'format_options');
    await q.dropColumn('webhooks', 'format');
  }
}
