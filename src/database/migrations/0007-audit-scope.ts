import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Every scope that existed before `audit:read`: a key holding all of them was an "all scopes" key. */
const PREVIOUS_ALL = ['events:write', 'events:read', 'streams:read', 'webhooks:read', 'webhooks:write', 'dlq:manage'];

/** `GET /api/v1/audit-log` now needs `audit:read`: all-scopes keys (e.g. BOOTSTRAP_API_KEY's) keep reading it. */
export class AuditScope1764375100000 implements MigrationInterface {
  name = 'AuditScope1764375100000';

  async up(q: QueryRunner): Promise<void> {
    // Raw SQL runs outside TypeORM's table resolution: name the Postgres schema (tests and `?schema=` use one).
    const schema = (q.connection.options as { schema?: string }).schema;
    const table = schema ? `${q.connection.driver.escape(schema)}.${q.connection.driver.escape('api_keys')}` : 'api_keys';
    const rows: { id: string; scopes: string }[] = await q.query(`SELECT id, scopes FROM ${table}`);
    for (const row of rows) {
      const scopes = JSON.parse(row.scopes) as string[];
      if (!PREVIOUS_ALL.every((s) => scopes.includes(s)) || scopes.includes('audit:read')) continue;
      const params = { scopes: JSON.stringify([...scopes, 'audit:read']), id: row.id };
      await q.query(...q.connection.driver.escapeQueryWithParameters(`UPDATE ${table} SET scopes = :scopes WHERE id = :id`, params));
    }
  }

  async down(): Promise<void> {
    // Keeping `audit:read` on old keys is harmless for older code (unknown scopes are ignored).
  }
}
