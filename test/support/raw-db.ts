import { createRequire } from 'node:module';
import pg from 'pg';

/** SQL straight to the database file or schema, as someone holding a copy of it would read it. */
export interface RawDb {
  query(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

interface Sqlite {
  prepare(sql: string): { all(...p: unknown[]): Record<string, unknown>[]; run(...p: unknown[]): unknown; reader: boolean };
  close(): void;
}
const SqliteDatabase = createRequire(import.meta.url)('better-sqlite3') as new (file: string) => Sqlite;

export async function openRaw(databaseUrl: string): Promise<RawDb> {
  if (databaseUrl.startsWith('sqlite:')) {
    const db = new SqliteDatabase(databaseUrl.slice('sqlite:'.length));
    return {
      query: async (sql, params = []) => {
        const stmt = db.prepare(sql);
        return stmt.reader ? stmt.all(...params) : (stmt.run(...params), []);
      },
      close: async () => db.close(),
    };
  }
  const url = new URL(databaseUrl);
  const schema = url.searchParams.get('schema')!;
  url.searchParams.delete('schema');
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  await client.query(`SET search_path TO "${schema}"`);
  return {
    query: async (sql, params = []) => {
      let n = 0;
      return (
        await client.query(
          sql.replace(/\?/g, () => `$${++n}`),
          params,
        )
      ).rows;
    },
    close: () => client.end(),
  };
}

/** A webhook row as an older version stored it: every value in plaintext (what the start-up re-seal pass finds). */
export async function insertPlaintextWebhook(
  databaseUrl: string,
  w: { id: string; organizationId: string; url: string; events: string[]; secret: string },
): Promise<void> {
  const raw = await openRaw(databaseUrl);
  const now = new Date().toISOString();
  try {
    await raw.query(
      'INSERT INTO webhooks (id, organization_id, url, events, secret, headers, retry, description, enabled, timeout_ms, created_at, updated_at) ' +
        'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [
        w.id,
        w.organizationId,
        w.url,
        JSON.stringify(w.events),
        w.secret,
        '{}',
        '{"maxAttempts":3,"backoffMultiplier":2,"maxDelay":300}',
        '',
        databaseUrl.startsWith('sqlite:') ? 1 : true,
        10000,
        now,
        now,
      ],
    );
  } finally {
    await raw.close();
  }
}
