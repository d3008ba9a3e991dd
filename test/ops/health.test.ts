import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createOrg,
  createTestDatabase,
  spawnApp,
  startTestApp,
  type AppProcess,
  type TestApp,
  type TestDatabase,
  type TestOrg,
} from '../support/launcher.js';
import { startPrivateRedis, type PrivateRedis } from '../support/redis.js';
import { sleep, waitFor } from '../support/time.js';
import { SseClient, sioConnect, sioConnected, sseUrl, WsClient, wsUrl } from '../realtime/clients.js';
import { historyOf } from './helpers.js';

/**
 * The API runs in this process; the worker role runs as a child process that is killed at the end: after a Redis
 * restart a BullMQ worker's close() can wait forever on its blocking connection (taskforcesh/bullmq#4656), which
 * must not hang the test run.
 */
describe('health', () => {
  let redis: PrivateRedis;
  let db: TestDatabase;
  let app: TestApp;
  let worker: AppProcess;
  let org: TestOrg;
  before(async () => {
    redis = await startPrivateRedis();
    db = createTestDatabase('sqlite');
    app = await startTestApp({ redis, databaseUrl: db.url, env: { ROLE: 'api' } });
    worker = await spawnApp({ ROLE: 'worker', REDIS_URL: redis.url, DATABASE_URL: db.url, LOG_LEVEL: 'warn' });
    org = await createOrg(app);
    await waitFor(async () => (await app.http.get('/api/v1/events/health')).status === 200, 20_000, 200);
  });
  after(async () => {
    await worker?.kill('SIGKILL');
    await app?.close();
    await redis?.destroy();
    await db?.drop();
  });

  test('seed shape with real checks, public; liveness and readiness through terminus', async () => {
    const res = await app.http.get('/api/v1/events/health').expect(200);
    assert.equal(res.body.status, 'healthy');
    for (const check of ['redis', 'database', 'webhook_processor', 'sse_server', 'websocket_server', 'dead_letter_queue']) {
      assert.equal(res.body.checks[check], 'healthy', check);
    }
    assert.deepEqual(res.body.metrics, {
      active_webhooks: 0,
      active_sse_connections: 0,
      active_websocket_connections: 0,
      pending_events: 0,
      dead_letter_queue_size: 0,
      delivery_workers: 1,
    });
    assert.equal(res.body.errors, undefined);
    const live = await app.http.get('/health/live').expect(200);
    assert.equal(live.body.status, 'ok');
    const ready = await app.http.get('/health/ready').expect(200);
    assert.deepEqual([ready.body.status, ready.body.details.redis.status, ready.body.details.database.status], ['ok', 'up', 'up']);
  });

  test('connection counts follow real SSE, WebSocket and Socket.IO clients', async () => {
    const sse = [new SseClient(sseUrl(app), { key: org.key }), new SseClient(sseUrl(app), { key: org.key })];
    const ws = await WsClient.open(wsUrl(app, `access_token=${org.key}`));
    const sio = sioConnect(app, org.key);
    try {
      await Promise.all([...sse.map((c) => c.opened), sioConnected(sio.socket)]);
      const metrics = async () => (await app.http.get('/api/v1/events/health').expect(200)).body.metrics;
      await waitFor(async () => (await metrics()).active_sse_connections === 2 && (await metrics()).active_websocket_connections === 2);
    } finally {
      for (const c of sse) c.close();
      ws.close();
      sio.socket.close();
    }
    await waitFor(async () => {
      const m = (await app.http.get('/api/v1/events/health')).body.metrics;
      return m.active_sse_connections === 0 && m.active_websocket_connections === 0;
    });
  });

  test('delivery workers are counted by their heartbeat; with none left webhook_processor is unhealthy (503), and healthy again when one starts', async () => {
    const health = () => app.http.get('/api/v1/events/health');
    const spawnWorker = () => spawnApp({ ROLE: 'worker', REDIS_URL: redis.url, DATABASE_URL: db.url, LOG_LEVEL: 'warn' });
    const second = await spawnWorker();
    await waitFor(async () => (await health()).body.metrics.delivery_workers === 2, 20_000, 100);
    await second.kill('SIGTERM');
    const one = await health();
    assert.equal(one.status, 200);
    assert.equal(one.body.metrics.delivery_workers, 1);
    await worker.kill('SIGTERM');
    const none = await health();
    assert.equal(none.status, 503);
    assert.equal(none.body.status, 'unhealthy');
    assert.equal(none.body.checks.webhook_processor, 'unhealthy');
    assert.equal(none.body.checks.redis, 'healthy');
    assert.match(none.body.errors.webhook_processor, /no delivery worker heartbeat/);
    assert.equal(none.body.metrics.delivery_workers, 0);
    worker = await spawnWorker();
    await waitFor(async () => (await health()).status === 200, 20_000, 100);
  });

  test('Redis stopped: 503 naming the redis check, publishes answer 202 or a clear 503 and none is lost; recovers when Redis returns', async () => {
    const accepted: string[] = [];
    const statuses = new Map<number, number>();
    let phase: 'before' | 'outage' | 'after' = 'before';
    const acceptedIn = { before: 0, outage: 0, after: 0 };
    let running = true;
    let n = 0;
    const publisher = async () => {
      while (running) {
        const messageId = `m-${n++}`;
        const res = await app.http
          .post('/api/v1/events')
          .set(org.auth)
          .timeout(15_000)
          .send({ type: 'message.sent', data: { messageId, companionId: 'c', userId: 'u', content: 'x', type: 'text', metadata: {} } });
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status === 202) {
          accepted.push(res.body.id);
          acceptedIn[phase]++;
        } else {
          assert.equal(res.status, 503, JSON.stringify(res.body));
          assert.equal(res.body.error.code, 'service_unavailable');
          await sleep(50);
        }
      }
    };
    const loops = [publisher(), publisher()];
    try {
      await waitFor(() => acceptedIn.before >= 20);
      await redis.stop();
      phase = 'outage';
      const down = await waitFor(async () => {
        const r = await app.http.get('/api/v1/events/health');
        return r.status === 503 ? r : null;
      });
      assert.equal(down!.body.status, 'unhealthy');
      assert.equal(down!.body.checks.redis, 'unhealthy');
      assert.equal(down!.body.checks.database, 'healthy');
      assert.equal(typeof down!.body.errors.redis, 'string');
      const ready = await app.http.get('/health/ready').expect(503);
      assert.equal(ready.body.status, 'error');
      assert.equal(ready.body.error.redis.status, 'down');
      await app.http.get('/health/live').expect(200);
      await waitFor(() => (statuses.get(503) ?? 0) >= 3);

      await redis.start();
      phase = 'after';
      const up = await waitFor(async () => {
        const r = await app.http.get('/api/v1/events/health');
        return r.status === 200 ? r : null;
        // Every check must pass again (the workers' next heartbeat, the tail's next read): slow on a loaded CI box.
      }, 45_000);
      assert.equal(up!.body.status, 'healthy');
      await waitFor(() => acceptedIn.after >= 20, 15_000);
    } finally {
      running = false;
      await Promise.all(loops);
    }
    assert.deepEqual([...statuses.keys()].sort(), [202, 503], `only 202 and 503: ${JSON.stringify([...statuses])}`);
    const missing = async () => {
      const ids = new Set((await historyOf(app, org)).map((e) => e.id));
      return accepted.filter((id) => !ids.has(id));
    };
    await waitFor(async () => (await missing()).length === 0, 20_000).catch(() => undefined);
    const left = await missing();
    assert.deepEqual(left, [], `${left.length} of ${accepted.length} accepted events are missing from the history`);
  });
});
