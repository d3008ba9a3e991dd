import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { exampleEvents } from '../../src/events/catalog.js';
import { RedisKeys } from '../../src/redis/keys.js';
import { createOrg, startTestApp, type TestApp, type TestOrg } from '../support/launcher.js';
import { waitFor } from '../support/time.js';

const STREAM = new RedisKeys('humana').eventLog();

describe('event log trimming never drops an unprocessed entry', () => {
  let app: TestApp;
  let org: TestOrg;
  let redis: Redis;
  before(async () => {
    app = await startTestApp({ env: { EVENT_LOG_MAXLEN: '50' } });
    org = await createOrg(app);
    redis = new Redis(app.redis.url);
  });
  after(async () => {
    redis.disconnect();
    await app.close();
  });

  async function publish(n: number): Promise<string[]> {
    const events = Array.from({ length: n }, () => ({ type: 'companion.activated', data: exampleEvents['companion.activated'] }));
    const res = await app.http.post('/api/v1/events/batch').set(org.auth).send({ events }).expect(202);
    return res.body.results.map((r: { id: string }) => r.id);
  }

  async function historyCount(): Promise<number> {
    return (await app.http.get('/api/v1/events/history?limit=1000').set(org.auth)).body.events.length;
  }

  test('a lagging consumer group holds the log past EVENT_LOG_MAXLEN; once it is gone the log shrinks, history keeps all', async () => {
    await redis.xgroup('CREATE', STREAM, 'slow-reader', '0', 'MKSTREAM');
    const ids = await publish(300);
    await waitFor(async () => (await historyCount()) === 300, 15_000, 100);
    await new Promise((r) => setTimeout(r, 2500)); // at least two trimming passes
    assert.ok((await redis.xlen(STREAM)) >= 300, 'nothing the slow group has not read is trimmed');

    // the slow reader processes half: entries up to there may go, the rest must stay
    await redis.xreadgroup('GROUP', 'slow-reader', 'c1', 'COUNT', 150, 'STREAMS', STREAM, '>');
    const pending = (await redis.xpending(STREAM, 'slow-reader')) as [number, string, string];
    assert.equal(pending[0], 150);
    await new Promise((r) => setTimeout(r, 2500));
    assert.ok((await redis.xlen(STREAM)) >= 300, 'pending (read, unacknowledged) entries are not trimmed either');

    await redis.xgroup('DESTROY', STREAM, 'slow-reader');
    await waitFor(async () => (await redis.xlen(STREAM)) <= 50, 5_000, 100);
    assert.equal(await historyCount(), 300);
    const page = await app.http.get('/api/v1/events/history?limit=1000').set(org.auth).expect(200);
    assert.deepEqual(
      page.body.events.map((e: { id: string }) => e.id),
      [...ids].reverse(),
    );
  });
});
