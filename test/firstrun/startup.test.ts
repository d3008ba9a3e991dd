import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import request from 'supertest';
import { freePort } from '../../src/config/redis-bootstrap.js';
import { BOOTSTRAP_KEY, createTestDatabase } from '../support/launcher.js';
import { startPrivateRedis, type PrivateRedis } from '../support/redis.js';
import { spawnApp, type AppProcess } from '../support/launcher.js';

const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const parse = (l: string) => JSON.parse(l) as { level: string; time: string; msg: string };

async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

describe('start-up that fails fast', () => {
  const apps: AppProcess[] = [];
  after(async () => {
    await Promise.all(apps.map((a) => a.kill('SIGKILL')));
  });

  test('a Redis that does not answer: one clear fatal line, exit 1 once STARTUP_TIMEOUT_MS is spent', async () => {
    const db = createTestDatabase('sqlite');
    const closed = await freePort();
    const app = await spawnApp(
      { REDIS_URL: `redis://127.0.0.1:${closed}`, DATABASE_URL: db.url, STARTUP_TIMEOUT_MS: '3000' },
      { waitForStart: false },
    );
    apps.push(app);
    const { code } = await app.exited;
    await db.drop();
    assert.equal(code, 1);
    const lines = app.lines.map(parse); // every line is JSON (parse throws otherwise)
    const fatal = lines.filter((l) => l.level === 'fatal');
    assert.equal(fatal.length, 1, app.lines.join('\n'));
    assert.equal(fatal[0].msg, `humana-events: Redis at redis://127.0.0.1:${closed} unreachable (ECONNREFUSED); retried for 3 s`);
    const waiting = lines.find((l) => l.level === 'warn' && l.msg.includes('not answering'));
    assert.ok(waiting, 'says what it waits for while it waits');
    const waited = Date.parse(fatal[0].time) - Date.parse(waiting.time);
    assert.ok(waited >= 2_000 && waited < 6_000, `gave up after ${waited} ms`);
    assert.ok(app.lines.length <= 3, `no flood of retries: ${app.lines.length} lines`);
    assert.doesNotMatch(app.stderr.join(''), /\n\s+at /, 'no stack traces');
  });

  test('SIGTERM while waiting for Redis exits at once', async () => {
    const db = createTestDatabase('sqlite');
    const closed = await freePort();
    const app = await spawnApp(
      { REDIS_URL: `redis://127.0.0.1:${closed}`, DATABASE_URL: db.url, STARTUP_TIMEOUT_MS: '120000' },
      { waitForStart: false },
    );
    apps.push(app);
    await app.waitForLine((l) => l.includes('not answering'), 90_000);
    const sent = Date.now();
    process.kill(app.pid!, 'SIGTERM');
    const { code } = await app.exited;
    await db.drop();
    assert.ok(Date.now() - sent < 3_000, `stopped after ${Date.now() - sent} ms`);
    assert.equal(code, 0);
  });

  test('an invalid configuration is one JSON fatal line', async () => {
    const app = await spawnApp({ PORT: 'not-a-port' }, { waitForStart: false });
    apps.push(app);
    assert.equal((await app.exited).code, 1);
    assert.equal(app.lines.length, 1);
    assert.match(parse(app.lines[0]).msg, /^humana-events: Invalid configuration: PORT: /);
  });
});

describe('migrations under a lock: three processes starting together on a fresh database', () => {
  let redis: PrivateRedis;
  const apps: AppProcess[] = [];
  after(async () => {
    await Promise.all(apps.map((a) => a.kill('SIGKILL')));
    await redis?.destroy();
  });

  for (const kind of ['postgres', 'sqlite'] as const) {
    test(kind, async (t) => {
      if (kind === 'postgres' && !(await postgresReachable())) return t.skip(`no Postgres at ${PG_URL}`);
      redis ??= await startPrivateRedis();
      let databaseUrl: string;
      let drop: () => Promise<void>;
      if (kind === 'postgres') {
        const url = new URL(PG_URL);
        const schema = `t_${randomBytes(6).toString('hex')}`;
        url.searchParams.set('schema', schema); // not created beforehand: the first process creates it, under the lock
        databaseUrl = url.toString();
        drop = async () => {
          const client = new pg.Client({ connectionString: PG_URL });
          await client.connect();
          await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
          await client.end();
        };
      } else {
        const db = createTestDatabase('sqlite');
        databaseUrl = db.url;
        drop = db.drop;
      }
      try {
        const env = { REDIS_URL: redis.url, DATABASE_URL: databaseUrl, REDIS_PREFIX: `mig${kind}`, ROLE: 'api' };
        const started = await Promise.all([1, 2, 3].map(() => spawnApp(env, { startTimeoutMs: 150_000 })));
        apps.push(...started);
        for (const app of started) {
          assert.ok(!app.lines.some((l) => /duplicate key|Unable to connect|SQLITE_BUSY/.test(l)), app.lines.join('\n'));
          await request(app.url!).get('/api/v1/webhooks').set('Authorization', `Bearer ${BOOTSTRAP_KEY}`).expect(200);
        }
        await Promise.all(started.map((a) => a.kill('SIGTERM')));
      } finally {
        await drop();
      }
    });
  }
});
