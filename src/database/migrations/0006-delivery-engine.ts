import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Delivery engine v2: endpoint control on webhooks (paused, why and when it was disabled, breaker / auto-disable /
 * rate-limit / ordering / variants options as JSON text) and, on deliveries, the variant URL and ordering sequence.
 */
export class DeliveryEngine1764374900000 implements MigrationInterface {
  name = 'DeliveryEngine1764374900000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumns('webhooks', [
      new TableColumn({ name: 'paused', type: 'boolean', default: false }),
      new TableColumn({ name: 'disabled_at', type: 'varchar', length: '32', isNullable: true }),
      new TableColumn({ name: 'disabled_reason', type: 'text', isNullable: true }),
      new TableColumn({ name: 'circuit_breaker', type: 'text', isNullable: true }),
      new TableColumn({ name: 'auto_disable', type: 'text', isNullable: true }),
      new TableColumn({ name: 'rate_limit', type: 'text', isNullable: true }),
      new TableColumn({ name: 'ordering', type: 'text', isNullable: true }),
      new TableColumn({ name: 'variants', type: 'text', isNullable: true }),
    ]);
    await q.addColumns('webhook_deliveries', [
      new TableColumn({ name: 'variant', type: 'varchar', length: '2048', isNullable: true }),
      new TableColumn({ name: 'sequence', type: 'integer', isNullable: true }),
    ]);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const c of ['variant', 'sequence']) await q.dropColumn('webhook_deliveries', c);
    for (const c of ['paused', 'disabled_at', 'disabled_reason', 'circuit_breaker', 'auto_disable', 'rate_limit', 'ordering', 'variants'])
      await q.dropColumn('webhooks', c);
  }
}
