import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from 'ioredis';
import { logPositionOf } from '../../src/common/ids.js';
import { partitionOf } from '../../src/events/partitions.js';
import { RedisKeys } from '../../src/redis/keys.js';
import { createOrg, startTestApp, type TestApp, type TestOrg } from '../support/launcher.js';
import { Receiver } from '../support/receiver.js';
import { clusterToolsAvailable, startPrivateCluster, type PrivateCluster } from '../support/redis.js';
import { sleep, waitFor } from '../support/time.js';
import { eventOf, publish, publishBatch, RT_ENV, SseClient, sseUrl } from '../realtime/clients.js';
import { arrived, hookFor } from '../webhooks/fixtures.js';
import { deliveryStaysOnPartition, engineKeys, partitionPlace, type PartitionedDeployment } from '../support/partitioned-delivery.js';

const skip = clusterToolsAvailable() ? false : 'redis-server and redis-cli are not both installed: the Redis Cluster tests need them';
const PARTITIONS = 16;
const keys = new RedisKeys('humana');
const partitionKey = (p: number) => keys.eventLog(keys.eventLogTag(p, PARTITIONS));

describe(`a partitioned event log on a Redis Cluster (EVENT_LOG_PARTITIONS=${PARTITIONS}, 3 masters)`, { skip }, () => {
  let cluster: PrivateCluster;
  let conn: Cluster;
  let app: TestApp;
  let rx: Receiver;
  /** Organizations in three different partitions, on at least two different masters. */
  const orgs: TestOrg[] = [];
  const closers: (() => void)[] = [];

  before(async () => {
    cluster = await startPrivateCluster();
    conn = new Cluster([{ host: '127.0.0.1', port: cluster.ports[0] }]);
    app = await startTestApp({
      redisUrl: cluster.url,
      env: { ...RT_ENV, EVENT_LOG_PARTITIONS: String(PARTITIONS), REDIS_MIN_REPLICAS_ACK: '1', REDIS_WAIT_TIMEOUT_MS: '2000' },
    });
    rx = await Receiver.start();
    const partitions = new Set<number>();
    const masters = new Set<number>();
    while (orgs.length < 3 || masters.size < 2) {
      const org = await createOrg(app);
      const p = partitionOf(org.id, PARTITIONS);
      if (partitions.has(p)) continue;
      partitions.add(p);
      masters.add(await cluster.masterOf(cluster.slotOf(partitionKey(p))));
      orgs.push(org);
    }
  });
  after(async () => {
    for (const close of closers) close();
    conn?.disconnect();
    await app?.close();
    await rx?.close();
    await cluster?.destroy();
  });

  test('the 16 partitions are 16 slots spread over all 3 masters; each keeps its idempotency records in its slot', async () => {
    const slot = async (key: string) => Number(await conn.call('CLUSTER', 'KEYSLOT', key));
    const slots = await Promise.all(Array.from({ length: PARTITIONS }, (_, p) => slot(partitionKey(p))));
    assert.equal(new Set(slots).size, PARTITIONS);
    const masters = new Set(await Promise.all(slots.map((s) => cluster.masterOf(s))));
    assert.equal(masters.size, 3, `partitions on masters ${[...masters].join(', ')}`);
    for (let p = 0; p < PARTITIONS; p++) {
      assert.equal(await slot(keys.idempotency('org_x', 'k', keys.eventLogTag(p, PARTITIONS))), slots[p]);
    }
  });

  test('publish (with WAIT on each partition master), idempotency and history for organizations on different masters', async () => {
    const published = await Promise.all(
      orgs.map(async (org) => {
        const body = { id: 'cluster-partitioned-1', ...eventOf('message.sent') };
        const first = await app.http.post('/api/v1/events').set(org.auth).send(body).expect(202);
        const again = await app.http.post('/api/v1/events').set(org.auth).send(body).expect(202);
        assert.equal(again.body.id, first.body.id);
        const ids = await publishBatch(
          app,
          org,
          Array.from({ length: 20 }, () => eventOf('chat.started')),
        );
        return [first.body.id as string, ...ids];
      }),
    );
    for (const [i, org] of orgs.entries()) {
      const p = partitionOf(org.id, PARTITIONS);
      for (const id of published[i]) assert.equal(logPositionOf(id)?.partition, p);
      const history = await waitFor(async () => {
        const res = await app.http.get('/api/v1/events/history?limit=100').set(org.auth).expect(200);
        return res.body.events.length === 21 ? (res.body.events as { id: string }[]) : null;
      }, 20_000);
      assert.deepEqual(history!.map((e) => e.id).sort(), [...published[i]].sort());
      assert.ok((await conn.xlen(partitionKey(p))) >= 21, 'the partition stream on its master holds them');
      const one = await app.http.get(`/api/v1/events/${published[i][5]}`).set(org.auth).expect(200);
      assert.equal(one.body.id, published[i][5]);
    }
  });

  test("a webhook of each organization is delivered its events, through its partition's fan-out queue", async () => {
    const hooks = await Promise.all(orgs.map((org) => hookFor(app, rx.url, { events: ['usage.*'] }, org)));
    const sent = await Promise.all(orgs.map((org) => publish(app, org, 'usage.recorded')));
    for (const [i, hook] of hooks.entries()) {
      const [got] = await arrived(rx, hook.path, 1, 20_000);
      assert.equal(got.headers['webhook-id'], sent[i].id);
    }
    // the fan-out jobs went through the partitions' queues, each on its partition's master
    for (const [i, org] of orgs.entries()) {
      const p = partitionOf(org.id, PARTITIONS);
      const stream = `${keys.bullPrefix(keys.eventLogTag(p, PARTITIONS))}:webhook-delivery-p${p}:events`;
      assert.equal(cluster.slotOf(stream), cluster.slotOf(partitionKey(p)));
      const added = (await conn.xrange(stream, '-', '+')).map(([, f]) => f[f.indexOf('jobId') + 1]);
      assert.ok(
        added.some((job) => job.startsWith(`fanout-${org.id}-`) && job.includes(sent[i].id)),
        `${sent[i].id}'s fan-out job in webhook-delivery-p${p}: ${added.join(', ')}`,
      );
    }
  });

  test("retries, DLQ retry, a paused webhook's backlog and resume, a rate limit: on the organization's partition queue and slot", async () => {
    const d: PartitionedDeployment = { app, rx, redis: conn, keys, partitions: PARTITIONS };
    await Promise.all(orgs.slice(0, 2).map((org) => deliveryStaysOnPartition(d, org)));
    const slot = async (key: string) => Number(await conn.call('CLUSTER', 'KEYSLOT', key));
    const slots = new Set<number>();
    for (const org of orgs) {
      const { partition, tag } = partitionPlace(d, org);
      const own = await slot(partitionKey(partition));
      slots.add(own);
      for (const key of engineKeys(keys, 'wh_x', org.id, tag))
        assert.equal(await slot(key), own, `${key} in partition ${partition}'s slot`);
      // the partition's delivery queue (BullMQ keys) is in that slot too
      assert.equal(await slot(`${partitionPlace(d, org).queue}:wait`), own);
    }
    assert.equal(slots.size, orgs.length, 'organizations in different partitions: different slots');
  });

  test('SSE resume with Last-Event-ID in each organization’s partition', async () => {
    for (const org of orgs) {
      const first = new SseClient(sseUrl(app, 'events=companion.*'), { key: org.key });
      closers.push(() => first.close());
      await first.opened;
      const e0 = await publish(app, org, 'companion.activated');
      await first.waitForEvents(1, 15_000);
      first.close();
      const missed = await publishBatch(
        app,
        org,
        Array.from({ length: 10 }, () => eventOf('companion.activated')),
      );
      const again = new SseClient(sseUrl(app, 'events=companion.*'), { key: org.key, lastEventId: e0.id });
      closers.push(() => again.close());
      await again.waitForEvents(10, 15_000);
      const live = await publish(app, org, 'companion.activated');
      await again.waitForEvents(11, 15_000);
      await sleep(100);
      assert.deepEqual(again.ids(), [...missed, live.id]);
      again.close();
    }
  });
});
