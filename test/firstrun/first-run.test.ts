import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { createTestDatabase, type TestDatabase } from '../support/launcher.js';
import { startPrivateRedis, type PrivateRedis } from '../support/redis.js';
import { spawnApp, type AppProcess } from '../support/launcher.js';

const START = { startTimeoutMs: 120_000 };
/** `npm start` with nothing configured: no BOOTSTRAP_API_KEY, no ADMIN_TOKEN. */
const bare = (redis: PrivateRedis, db: TestDatabase) => ({
  REDIS_URL: redis.url,
  DATABASE_URL: db.url,
  BOOTSTRAP_API_KEY: '',
  ADMIN_TOKEN: '',
});
const keyIn = (text: string) => /API key \(all scopes, shown only now\):\s+(hk_[A-Za-z0-9_-]+)/.exec(text)?.[1];

describe('first run', () => {
  let redis: PrivateRedis;
  let db: TestDatabase;
  let app: AppProcess | undefined;
  before(async () => {
    redis = await startPrivateRedis();
    db = createTestDatabase('sqlite');
  });
  after(async () => {
    await app?.kill('SIGKILL');
    await redis?.destroy();
    await db?.drop();
  });

  test('an empty database gets org_default and one key, printed once (stderr), that works; a second start prints none', async () => {
    app = await spawnApp(bare(redis, db), START);
    const line = await app.waitForLine((l) => l.includes('"FirstRun"'));
    const announced = JSON.parse(line) as Record<string, unknown>;
    assert.equal(announced.organizationId, 'org_default');
    assert.match(String(announced.msg), /\/admin.*\/api\/v1.*\/docs.*ADMIN_TOKEN.*BOOTSTRAP_API_KEY/);
    const key = keyIn(app.stderr.join(''));
    assert.ok(key, `the key is printed on stderr: ${app.stderr.join('')}`);
    assert.ok(!app.lines.join('\n').includes(key), 'the key never reaches the JSON logs');
    const start = app.lines.find((l) => l.includes('Humana Events ('))!;
    assert.match(start, /on http:\/\/127\.0\.0\.1:\d+ — console http:\/\/127\.0\.0\.1:\d+\/admin, API .*\/api\/v1, docs .*\/docs/);

    const http = request(app.url!);
    const auth = { Authorization: `Bearer ${key}` };
    const published = await http
      .post('/api/v1/events')
      .set(auth)
      .send({ type: 'companion.activated', data: { companionId: 'c1', previousStatus: 'inactive' } });
    assert.equal(published.status, 202, JSON.stringify(published.body));
    assert.equal(published.body.organizationId, 'org_default');
    await http.get('/api/v1/webhooks').set(auth).expect(200);
    await http.get('/api/v1/webhooks').expect(401);
    const root = await http.get('/').expect(302);
    assert.equal(root.headers.location, '/admin');
    await app.kill('SIGTERM');

    app = await spawnApp(bare(redis, db), START);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(keyIn(app.stderr.join('')), undefined, 'no second key');
    assert.ok(!app.lines.some((l) => l.includes('"FirstRun"')));
    await request(app.url!).get('/api/v1/webhooks').set(auth).expect(200);
    await app.kill('SIGTERM');
  });

  test('production creates nothing implicitly', async () => {
    const fresh = createTestDatabase('sqlite');
    try {
      app = await spawnApp(
        { ...bare(redis, fresh), NODE_ENV: 'production', SECRETS_KEY: '0123456789abcdef'.repeat(4), REDIS_PREFIX: 'prod' },
        START,
      );
      assert.ok(!app.lines.some((l) => l.includes('"FirstRun"')));
      assert.equal(keyIn(app.stderr.join('')), undefined);
      await app.kill('SIGTERM');
    } finally {
      await fresh.drop();
    }
  });
});
