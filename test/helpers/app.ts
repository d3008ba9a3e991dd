import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import request from 'supertest';
import { startApp, type RunningApp } from '../../src/bootstrap.js';
import { startPrivateRedis, type PrivateRedis } from './redis.js';

export type DbKind = 'sqlite' | 'postgres';

/** SQLite always; Postgres too when TEST_DATABASE_URL is set (CI sets it). */
export function databases(): DbKind[] {
  return process.env.TEST_DATABASE_URL ? ['sqlite', 'postgres'] : ['sqlite'];
}

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const BOOTSTRAP_KEY = 'hk_test_bootstrap_0123456789abcdef';

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A fresh database per app: a temp SQLite file, or a private schema in TEST_DATABASE_URL. */
export function createTestDatabase(kind: DbKind): TestDatabase {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(path.join(tmpdir(), 'humana-db-'));
    return { url: `sqlite:${path.join(dir, 'test.sqlite')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const base = process.env.TEST_DATABASE_URL!;
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const url = new URL(base);
  url.searchParams.set('schema', schema);
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: base });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    },
  };
}

export interface TestAppOptions {
  db?: DbKind;
  /** Reuse a Redis (several apps on one Redis, or a restart); otherwise a private one is started and owned. */
  redis?: PrivateRedis;
  /** Reuse a database URL (restart on the same data). */
  databaseUrl?: string;
  env?: Record<string, string>;
}

export interface TestApp {
  url: string;
  running: RunningApp;
  redis: PrivateRedis;
  databaseUrl: string;
  /** supertest bound to the app's URL. */
  http: ReturnType<typeof request>;
  /** Closes the app; removes the Redis and database it created itself. */
  close(): Promise<void>;
  /** Closes only the app (keeps Redis and data) for restart tests. */
  stop(): Promise<void>;
}

export async function startTestApp(opts: TestAppOptions = {}): Promise<TestApp> {
  const ownRedis = !opts.redis;
  const redis = opts.redis ?? (await startPrivateRedis());
  const ownDb = !opts.databaseUrl;
  const db = opts.databaseUrl ? { url: opts.databaseUrl, drop: async () => undefined } : createTestDatabase(opts.db ?? 'sqlite');
  const running = await startApp({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    REDIS_URL: redis.url,
    DATABASE_URL: db.url,
    ADMIN_TOKEN,
    BOOTSTRAP_API_KEY: BOOTSTRAP_KEY,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...opts.env,
  });
  const url = running.url!;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await running.close();
  };
  return {
    url,
    running,
    redis,
    databaseUrl: db.url,
    http: request(url),
    stop,
    close: async () => {
      await stop();
      if (ownDb) await db.drop();
      if (ownRedis) await redis.destroy();
    },
  };
}

export interface TestOrg {
  id: string;
  key: string;
  auth: { Authorization: string };
}

/** Creates an organization and an all-scopes key through the admin API. */
export async function createOrg(app: TestApp, name = `org-${randomBytes(3).toString('hex')}`, scopes?: string[]): Promise<TestOrg> {
  const org = await app.http.post('/api/v1/admin/organizations').set('Authorization', `Bearer ${ADMIN_TOKEN}`).send({ name }).expect(201);
  const key = await app.http
    .post(`/api/v1/admin/organizations/${org.body.id}/api-keys`)
    .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
    .send(scopes ? { name: 'test', scopes } : { name: 'test' })
    .expect(201);
  return { id: org.body.id as string, key: key.body.key as string, auth: { Authorization: `Bearer ${key.body.key}` } };
}

/** Polls until fn returns a truthy value (or throws after timeoutMs with the last value). */
export async function waitFor<T>(fn: () => Promise<T> | T, timeoutMs = 10_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`waitFor timed out after ${timeoutMs} ms (last value: ${JSON.stringify(last)})`);
}
