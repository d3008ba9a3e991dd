import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { exampleEvents } from '../../src/events/catalog.js';
import { RedisKeys } from '../../src/redis/keys.js';
import { createOrg, startTestApp, type TestApp, type TestOrg } from '../support/launcher.js';
import { Receiver } from '../support/receiver.js';
import { clusterToolsAvailable, startPrivateRedis, startPrivateReplica, type PrivateRedis, type PrivateReplica } from '../support/redis.js';
import { waitFor } from '../support/time.js';
import { arrived, hookFor, until } from '../webhooks/fixtures.js';

const skip = clusterToolsAvailable() ? false : 'redis-server and redis-cli are not both installed: the replication tests need them';
const body = (id: string) => ({ id, type: 'message.sent', data: exampleEvents['message.sent'] });

describe('REDIS_MIN_REPLICAS_ACK=1 on one Redis server with a replica', { skip }, () => {
  let redis: PrivateRedis;
  let replica: PrivateReplica;
  let app: TestApp;
  let org: TestOrg;

  before(async () => {
    redis = await startPrivateRedis();
    replica = await startPrivateReplica(redis);
    app = await startTestApp({ redis, env: { REDIS_MIN_REPLICAS_ACK: '1', REDIS_WAIT_TIMEOUT_MS: '300' } });
    org = await createOrg(app);
  });
  after(async () => {
    replica?.resume();
    await app?.close();
    await replica?.destroy();
    await redis?.destroy();
  });

  test('a publish is acknowledged once the replica has it (single and batch)', async () => {
    const res = await app.http.post('/api/v1/events').set(org.auth).send(body('durable-1')).expect(202);
    assert.match(res.body.id, /^evt_/);
    const batch = await app.http
      .post('/api/v1/events/batch')
      .set(org.auth)
      .send({ events: [body('durable-b1'), body('durable-b2')] });
    assert.ok([200, 202, 207].includes(batch.status), JSON.stringify(batch.body));
  });

  test('a replica that does not acknowledge: 503 replication_timeout naming the uncertainty; the retry with the same id is safe', async () => {
    replica.pause();
    let res;
    try {
      const t0 = Date.now();
      res = await app.http.post('/api/v1/events').set(org.auth).send(body('durable-2'));
      assert.equal(res.status, 503, JSON.stringify(res.body));
      assert.equal(res.body.error.code, 'replication_timeout');
      assert.match(res.body.error.message, /may or may not exist/);
      assert.match(res.body.error.message, /Idempotency-Key/);
      assert.equal(res.headers['retry-after'], '1');
      assert.ok(Date.now() - t0 >= 250, 'it waited for the replica');
    } finally {
      replica.resume();
    }
    await replica.synced();
    // the event reached the master: the retry finds it (same id), and now a replica acknowledges it
    const retry = (await waitFor(async () => {
      const r = await app.http.post('/api/v1/events').set(org.auth).send(body('durable-2'));
      return r.status === 202 ? r : null;
    }, 10_000))!;
    const again = await app.http.post('/api/v1/events').set(org.auth).send(body('durable-2')).expect(202);
    assert.equal(again.body.id, retry.body.id, 'one event, however many retries');
    const history = await waitFor(async () => {
      const h = await app.http.get('/api/v1/events/history?limit=100').set(org.auth).expect(200);
      return h.body.events.some((e: { id: string }) => e.id === retry.body.id) ? h.body.events : null;
    });
    assert.equal(history.filter((e: { id: string }) => e.id === retry.body.id).length, 1);
  });

  test('the matcher acknowledges a log batch only once its delivery jobs are on a replica', async () => {
    const rx = await Receiver.start();
    const admin = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    const pending = async () => Number(((await admin.xpending(new RedisKeys('humana').eventLog(), 'webhooks')) as [number])[0]);
    try {
      const hook = await hookFor(app, rx.url, { events: ['message.sent'] }, org);
      await app.http.post('/api/v1/events').set(org.auth).send(body('hooked-1')).expect(202);
      await arrived(rx, hook.path, 1);
      await until(async () => (await pending()) === 0);
      replica.pause();
      try {
        // on the master only: 503, yet the matcher reads it and its job is delivered (the job is on the master too)
        await app.http.post('/api/v1/events').set(org.auth).send(body('hooked-2')).expect(503);
        await arrived(rx, hook.path, 2);
        assert.ok((await pending()) > 0, 'the batch stays unacknowledged while no replica has its jobs');
      } finally {
        replica.resume();
      }
      await replica.synced();
      await until(async () => (await pending()) === 0, 15_000);
    } finally {
      admin.disconnect();
      await rx.close();
    }
  });
});

describe('REDIS_MIN_REPLICAS_ACK=1 without any replica', { skip }, () => {
  test('every publish answers 503 replication_timeout (nothing is acknowledged that a failover could lose)', async () => {
    const app = await startTestApp({ env: { REDIS_MIN_REPLICAS_ACK: '1', REDIS_WAIT_TIMEOUT_MS: '100' } });
    try {
      const org = await createOrg(app);
      const res = await app.http.post('/api/v1/events').set(org.auth).send(body('lonely')).expect(503);
      assert.equal(res.body.error.code, 'replication_timeout');
    } finally {
      await app.close();
    }
  });
});
