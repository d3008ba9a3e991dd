import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

function tableName(q: QueryRunner, name: string): string {
  const { driver } = q.connection;
  const schema = (driver.options as { schema?: string }).schema;
  return (schema ? `${driver.escape(schema)}.` : '') + driver.escape(name);
}

/**
 * Destinations:
 * - `webhooks.url` is sealed at rest like the signing secrets (broker and SMTP URLs carry credentials), and a sealed
 *   URL is longer than 2048 characters can hold, so the column becomes `text` (SQLite does not enforce varchar
 *   lengths; on Postgres this is a catalog-only change). The sealing itself is the startup pass
 *   (src/database/secret-columns.ts): migrations run without the configuration, hence without the key.
 * - `webhook_deliveries.transport`: the transport the URL's scheme chose, for metrics by transport. Rows logged before
 *   it take it from their URL's scheme (the schemes of this version: http(s), amqp(s), nats, mqtt(s), redis(s), smtp(s)).
 */
export class DestinationUrls1764375300000 implements MigrationInterface {
  name = 'DestinationUrls1764375300000';

  async up(q: QueryRunner): Promise<void> {
    if (q.connection.driver.options.type === 'postgres')
      await q.query(`ALTER TABLE ${tableName(q, 'webhooks')} ALTER COLUMN "url" TYPE text`);
    await q.addColumn('webhook_deliveries', new TableColumn({ name: 'transport', type: 'varchar', length: '16', default: "'http'" }));
    const scheme = `LOWER(SUBSTR("url", 1, 4))`;
    await q.query(
      `UPDATE ${tableName(q, 'webhook_deliveries')} SET "transport" = CASE ${scheme} WHEN 'redi' THEN 'redis' ELSE ${scheme} END ` +
        `WHERE ${scheme} IN ('amqp', 'nats', 'mqtt', 'redi', 'smtp')`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('webhook_deliveries', 'transport');
    if (q.connection.driver.options.type === 'postgres')
      await q.query(`ALTER TABLE ${tableName(q, 'webhooks')} ALTER COLUMN "url" TYPE varchar(2048)`);
  }
}
