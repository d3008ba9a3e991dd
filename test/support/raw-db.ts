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
