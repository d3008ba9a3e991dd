import type { MigrationInterface, QueryRunner } from 'typeorm';

/** SQLite does not enforce varchar lengths; on Postgres, varchar(256) → text is a catalog-only change. */
async function setSecretColumnsType(q: QueryRunner, type: string): Promise<void> {
  const { driver } = q.connection;
  if (driver.options.type !== 'postgres') return;
  const schema = (driver.options as { schema?: string }).schema;
  const table = (schema ? `${driver.escape(schema)}.` : '') + driver.escape('webhooks');
  await q.query(`ALTER TABLE ${table} ALTER COLUMN "secret" TYPE ${type}, ALTER COLUMN "previous_secret" TYPE ${type}`);
}

/**
 * Sealed secrets are longer than the plaintext (`enc:v1:<keyId>:` + base64 of IV, ciphertext and tag: a 256-character
 * secret takes 396 characters), so the secret columns become `text`. The sealing itself is the startup pass
 * (src/database/secret-columns.ts): migrations run without the configuration, hence without the key.
 */
export class SealedWebhookSecrets1764374700000 implements MigrationInterface {
  name = 'SealedWebhookSecrets1764374700000';

  up(q: QueryRunner): Promise<void> {
    return setSecretColumnsType(q, 'text');
  }

  down(q: QueryRunner): Promise<void> {
    return setSecretColumnsType(q, 'varchar(256)');
  }
}
