import { DataSource, MigrationExecutor, type QueryRunner } from 'typeorm';
import { maskUrl, retryUntil, type WaitOptions } from '../common/startup-wait.js';
import { dataSourceOptions, isSqlite, postgresSchema } from './data-source-options.js';

/** One connection, no entities: enough to wait for the database and migrate it. */
async function connectOnce(databaseUrl: string, timeoutMs: number): Promise<DataSource> {
  const base = dataSourceOptions(databaseUrl);
  const options =
    base.type === 'postgres' ? { ...base, extra: { max: 1, connectionTimeoutMillis: Math.max(100, Math.min(timeoutMs, 5_000)) } } : base;
  const ds = new DataSource(options);
  try {
    return await ds.initialize();
  } catch (err) {
    await ds.destroy().catch(() => undefined);
    throw err;
  }
}

/** Postgres: a session advisory lock per schema, so processes starting together migrate one after the other. */
async function withPgLock(runner: QueryRunner, schema: string | undefined, work: () => Promise<void>): Promise<void> {
  const key = `humana-events:migrations:${schema ?? 'public'}`;
  await runner.query('SELECT pg_advisory_lock(hashtext($1))', [key]);
  try {
    if (schema) await runner.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await work();
  } finally {
    await runner.query('SELECT pg_advisory_unlock(hashtext($1))', [key]);
  }
}

/** SQLite: BEGIN IMMEDIATE takes the write lock up front (waiting on busy_timeout) for the whole migration run. */
async function withSqliteLock(runner: QueryRunner, work: () => Promise<void>): Promise<void> {
  await runner.query('BEGIN IMMEDIATE');
  try {
    await work();
    await runner.query('COMMIT');
  } catch (err) {
    await runner.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/**
 * Start-up, before the app's own connections: waits (bounded, abortable) until the database answers, then runs the
 * pending migrations once under a database lock, whatever the number of processes starting at the same time.
 */
export async function prepareDatabase(databaseUrl: string, opts: WaitOptions): Promise<void> {
  const what = isSqlite(databaseUrl) ? `SQLite database ${databaseUrl.slice('sqlite:'.length)}` : `Postgres at ${maskUrl(databaseUrl)}`;
  const ds = await retryUntil(what, (remaining) => connectOnce(databaseUrl, remaining), opts);
  const runner = ds.createQueryRunner();
  try {
    const executor = new MigrationExecutor(ds, runner);
    if (isSqlite(databaseUrl)) {
      executor.transaction = 'none'; // already inside BEGIN IMMEDIATE
      await withSqliteLock(runner, () => executor.executePendingMigrations().then(() => undefined));
    } else {
      executor.transaction = 'all';
      await withPgLock(runner, postgresSchema(databaseUrl), () => executor.executePendingMigrations().then(() => undefined));
    }
  } finally {
    await runner.release();
    await ds.destroy();
  }
}
