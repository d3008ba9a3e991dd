import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from 'ioredis';
import { RedisKeys } from '../../src/redis/keys.js';
import { createOrg, startTestApp, type TestApp, type TestOrg } from '../support/launcher.js';
import { Receiver } from '../support/receiver.js';
import { clusterToolsAvailable, startPrivateCluster, type PrivateCluster } from '../support/redis.js';
import { sleep, waitFor } from '../support/time.js';
import { eventOf, publish, publishBatch, RT_ENV, sioConnect, sioConnected, SseClient, sseUrl } from '../realtime/clients.js';
import { arrived, deliveriesOf, dlqOf, hookFor, until } from '../webhooks/fixtures.js';

const skip = clusterToolsAvailable() ? false : 'redis-server and redis-cli are not both installed: the Redis Cluster tests need them';

describe('on a Redis Cluster (3 masters, 3 replicas)', { skip }, () => {
  let cluster: PrivateCluster;
  let a: TestApp;
  let b: TestApp;
  let org: TestOrg;
  let rx: Receiver;
  const closers: (() => void)[] = [];

  before(async () => {
    cluster = await startPrivateCluster();
    a = await startTestApp({ redisUrl: cluster.url, env: { ...RT_ENV, REDIS_MIN_REPLICAS_ACK: '1', REDIS_WAIT_TIMEOUT_MS: '500' } });
    // the second API process finds the cluster through REDIS_CLUSTER_NODES
    b = await startTestApp({
      redisUrl: cluster.url,
      databaseUrl: a.databaseUrl,
      env: { ...RT_ENV, REDIS_URL: '', REDIS_CLUSTER_NODES: cluster.nodes },
    });
    org = await createOrg(a);
    rx = await Receiver.start();
  });
  after(async () => {
    for (const close of closers) close();
    await b?.close();
    await a?.close();
    await rx?.close();
    await cluster?.destroy();
  });

  test('the keys of each script and multi-key command share a slot: the whole deployment is one hash tag', async () => {
    const conn = new Cluster([{ host: '127.0.0.1', port: cluster.ports[0] }]);
    try {
      const k = new RedisKeys('humana');
      const slot = async (key: string) => Number(await conn.call('CLUSTER', 'KEYSLOT', key));
      const s = await slot(k.eventLog());
      for (const key of [
        k.idempotency('org_x', 'abc'),
        k.quotaCounter('org_x', 'events_per_minute', '1'),
        k.quotaFlag('org_x', 'm', '1', 5, 'warning'),
        k.bullPrefix() + ':delivery:wait',
        k.webhookBatch('wh', k.deploymentTag),
        k.webhookBatchLock('wh', k.deploymentTag),
        k.socketIo(),
      ]) {
        assert.equal(await slot(key), s, key);
      }
    } finally {
      conn.disconnect();
    }
  });

  test('publish, idempotency and history', async () => {
    const body = { id: 'cluster-idem-1', type: 'message.sent', data: eventOf('message.sent').data };
    const first = await a.http.post('/api/v1/events').set(org.auth).send(body).expect(202);
    const again = await b.http.post('/api/v1/events').set(org.auth).send(body).expect(202);
    assert.equal(again.body.id, first.body.id, 'a retried publish (on another process) is the same event');
    const ids = await publishBatch(
      a,
      org,
      Array.from({ length: 20 }, () => eventOf('chat.started')),
    );
    const history = await waitFor(async () => {
      const res = await b.http.get('/api/v1/events/history?limit=100').set(org.auth).expect(200);
      return res.body.events.length === 21 ? res.body.events : null;
    }, 15_000);
    const seen = new Set(history.map((e: { id: string }) => e.id));
    for (const id of [first.body.id, ...ids]) assert.ok(seen.has(id), id);
    // the log really is on the cluster: the master serving its slot holds the entries
    const conn = new Cluster([{ host: '127.0.0.1', port: cluster.ports[0] }]);
    try {
      assert.ok((await conn.xlen(new RedisKeys('humana').eventLog())) >= 21);
    } finally {
      conn.disconnect();
    }
  });

  test('webhooks: a retry then success, and exhausted retries into the DLQ (real receiver)', async () => {
    const retried = await hookFor(a, rx.url, { events: ['message.*'], retry: { maxAttempts: 3, backoffMultiplier: 1, maxDelay: 1 } });
    rx.on(retried.path, (_req, nth) => (nth === 1 ? { status: 500 } : { status: 200 }));
    const dead = await hookFor(
      a,
      rx.url,
      { events: ['chat.*'], retry: { maxAttempts: 2, backoffMultiplier: 1, maxDelay: 1 } },
      retried.org,
    );
    rx.on(dead.path, () => ({ status: 503 }));
    const ev = await publish(a, retried.org, 'message.sent');
    const got = await arrived(rx, retried.path, 2, 20_000);
    assert.equal(got[1].headers['webhook-id'], ev.id);
    await until(async () => (await deliveriesOf(a, retried, '?status=success')).find((d) => d.attempts === 2), 15_000);
    const chat = await publish(b, retried.org, 'chat.started');
    const [entry] = await until(async () => ((await dlqOf(a, dead)).length === 1 ? dlqOf(a, dead) : null), 20_000);
    assert.equal((entry.event as { id: string }).id, chat.id);
    assert.equal(rx.at(dead.path).length, 2);
  });

  test('REDIS_MIN_REPLICAS_ACK=1: WAIT runs on the master holding the log; a silent replica means 503 replication_timeout, then a safe retry', async () => {
    const master = await cluster.masterOf(cluster.slotOf(new RedisKeys('humana').eventLog()));
    const [replica] = cluster.replicasOf(master);
    assert.ok(replica, `the log's master ${master} has a replica`);
    const body = { id: 'cluster-durable-1', type: 'message.sent', data: eventOf('message.sent').data };
    cluster.pause(replica);
    try {
      const res = await a.http.post('/api/v1/events').set(org.auth).send(body);
      assert.equal(res.status, 503, JSON.stringify(res.body));
      assert.equal(res.body.error.code, 'replication_timeout');
    } finally {
      cluster.resume(replica);
    }
    const retry = (await waitFor(async () => {
      const r = await a.http.post('/api/v1/events').set(org.auth).send(body);
      return r.status === 202 ? r : null;
    }, 15_000))!;
    assert.match(retry.body.id, /^evt_/);
  });

  test('SSE resume with Last-Event-ID on the other process', async () => {
    const first = new SseClient(sseUrl(a, 'events=companion.*'), { key: org.key });
    closers.push(() => first.close());
    await first.opened;
    const e0 = await publish(a, org, 'companion.activated');
    await first.waitForEvents(1);
    first.close();
    const missed = await publishBatch(
      a,
      org,
      Array.from({ length: 30 }, () => eventOf('companion.activated')),
    );
    const again = new SseClient(sseUrl(b, 'events=companion.*'), { key: org.key, lastEventId: e0.id });
    closers.push(() => again.close());
    await again.waitForEvents(30, 15_000);
    const live = await publish(a, org, 'companion.activated');
    await again.waitForEvents(31, 15_000);
    await sleep(100);
    assert.deepEqual(again.ids(), [...missed, live.id]);
  });

  test('Socket.IO across two API processes: live events, and rooms through the streams adapter', async () => {
    const io = sioConnect(b, org.key);
    closers.push(() => io.socket.close());
    await sioConnected(io.socket);
    await io.socket.emitWithAck('subscribe', { events: ['usage.*'] });
    const ev = await publish(a, org, 'usage.recorded');
    await waitFor(() => io.received.some((r) => r.envelope?.id === ev.id), 10_000);
    const { EventsGateway, organizationRoom } = await import('../../src/realtime/events.gateway.js');
    const nspA = a.running.app.get(EventsGateway).namespace;
    // On a loaded machine one request can time out (the adapter waits 5 s for every process it counts): poll, and
    // keep the last error and the count for the message.
    let lastError = '';
    const seen = await waitFor(async () => {
      try {
        const remote = await nspA.in(organizationRoom(org.id)).fetchSockets();
        return remote.some((s) => s.id === io.socket.id) || null;
      } catch (err) {
        lastError = (err as Error).message;
        return null;
      }
    }, 30_000).catch(() => false);
    // B's subscriber may sit on any node: sharded pub/sub puts it on the channel's master, where A counts it
    const count = await (nspA.adapter as unknown as { serverCount(): Promise<number> }).serverCount();
    assert.ok(seen, `A sees the socket connected to B (last fetchSockets error: ${lastError || 'none'}; servers counted: ${count})`);
    assert.equal(count, 2, 'A counts both API processes');
    nspA.to(organizationRoom(org.id)).emit('notice', { text: 'hello from A' });
    await waitFor(() => io.received.some((r) => r.type === 'notice'), 10_000);
  });
});
