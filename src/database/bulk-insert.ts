import type { DataSource } from 'typeorm';

export type SqlColumnType = 'text' | 'int' | 'bigint' | 'bool';
export type SqlValue = string | number | boolean | null;

interface NativeSqlite {
  prepare(sql: string): { run(...params: SqlValue[]): unknown };
  transaction<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void;
}

const PG_ARRAY: Record<SqlColumnType, string> = { text: 'text[]', int: 'int[]', bigint: 'bigint[]', bool: 'boolean[]' };

/**
 * `INSERT … ON CONFLICT DO NOTHING` of many rows at once, bypassing the ORM's query builder (which costs more CPU
 * than the insert itself on hot paths): one prepared statement in one transaction on SQLite, one `unnest` statement
 * on Postgres. Re-inserting an existing primary key is a no-op, which makes at-least-once writers idempotent.
 */
export class BulkInserter {
  private sqliteInsert?: (rows: SqlValue[][]) => void;
  private readonly pgSql: string;

  constructor(
    private readonly ds: DataSource,
    table: string,
    private readonly columns: ReadonlyArray<readonly [name: string, type: SqlColumnType]>,
  ) {
    const names = columns.map(([n]) => `"${n}"`).join(', ');
    const tablePath = ds.driver.options.type === 'postgres' ? this.pgTable(table) : `"${table}"`;
    this.pgSql = `INSERT INTO ${tablePath} (${names}) SELECT * FROM unnest(${columns.map(([, t], i) => `$${i + 1}::${PG_ARRAY[t]}`).join(', ')}) ON CONFLICT DO NOTHING`;
    if (ds.driver.options.type === 'better-sqlite3') {
      const db = (ds.driver as unknown as { databaseConnection: NativeSqlite }).databaseConnection;
      const stmt = db.prepare(`INSERT OR IGNORE INTO "${table}" (${names}) VALUES (${columns.map(() => '?').join(', ')})`);
      this.sqliteInsert = db.transaction((rows: SqlValue[][]) => {
        for (const r of rows) stmt.run(...r);
      });
    }
  }

  private pgTable(table: string): string {
    const schema = (this.ds.driver.options as { schema?: string }).schema;
    return schema ? `"${schema}"."${table}"` : `"${table}"`;
  }

  async insert(rows: SqlValue[][]): Promise<void> {
    if (rows.length === 0) return;
    if (this.sqliteInsert) {
      this.sqliteInsert(rows.map((r) => r.map((v) => (typeof v === 'boolean' ? (v ? 1 : 0) : v))));
      return;
    }
    const cols = this.columns.map((_, i) => rows.map((r) => r[i]));
    await this.ds.query(this.pgSql, cols);
  }
}
