import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { logPositionOf } from '../../src/common/ids.js';
import { partitionOf } from '../../src/events/partitions.js';
import { RedisKeys } from '../../src/redis/keys.js';
import { ADMIN_TOKEN, createOrg, createTestDatabase, spawnApp, startTestApp, type TestApp, type TestOrg } from '../support/launcher.js';
import { Receiver } from '../support/receiver.js';
import { startPrivateRedis } from '../support/redis.js';
import { sleep, waitFor } from '../support/time.js';
import { eventOf, publish, publishBatch, RT_ENV, SseClient, sseUrl } from '../realtime/clients.js';
import { arrived, hookFor, until } from '../webhooks/fixtures.js';
import { deliveryStaysOnPartition, engineKeys, partitionPlace, type PartitionedDeployment } from '../support/partitioned-delivery.js';

const PARTITIONS = 4;
const keys = new RedisKeys('humana');
const streamOf = (org: TestOrg) => keys.eventLog(keys.eventLogTag(partitionOf(org.id, PARTITIONS), PARTITIONS));
const BOARD_AUTH = `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}`;
const parse = (l: string) => JSON.parse(l) as { level: string; msg: string };

async function historyIds(app: TestApp, org: TestOrg): Promise<string[]> {
  const res = await app.http.get('/api/v1/events/history?limit=1000').set(org.auth).expect(200);
  return (res.body.events as { id: string }[]).map((e) => e.id);
}

describe(`a partitioned event log (EVENT_LOG_PARTITIONS=${PARTITIONS}, one Redis)`, () => {
  let app: TestApp;
  let redis: Redis;
  let rx: Receiver;
  /** Organizations in three different partitions. */
  const orgs: TestOrg[] = [];
  const closers: (() => void)[] = [];

  before(async () => {
    app = await startTestApp({ env: { ...RT_ENV, EVENT_LOG_PARTITIONS: String(PARTITIONS), EVENT_LOG_MAXLEN: '50' } });
    redis = new Redis(app.redis.url);
    rx = await Receiver.start();
    const seen = new Set<number>();
    while (orgs.length < 3) {
      const org = await createOrg(app);
      const p = partitionOf(org.id, PARTITIONS);
      if (seen.has(p)) continue;
      seen.add(p);
      orgs.push(org);
    }
  });
  after(async () => {
    for (const close of closers) close();
    redis?.disconnect();
    await rx?.close();
    await app?.close();
  });

  test('each organization publishes into its own partition stream; its ids name the partition and resolve', async () => {
    assert.equal(await redis.get(keys.eventLogPartitions()), String(PARTITIONS), 'the count is recorded on first start');
    for (const org of orgs) {
      const p = partitionOf(org.id, PARTITIONS);
      const ev = await publish(app, org, 'message.sent');
      assert.equal(logPositionOf(ev.id)?.partition, p, ev.id);
      const [[sid, fields]] = await redis.xrevrange(streamOf(org), '+', '-', 'COUNT', 1);
      assert.equal(logPositionOf(ev.id)?.streamId, sid);
      assert.equal(fields[fields.indexOf('o') + 1], org.id);
      const got = await waitFor(async () => {
        const res = await app.http.get(`/api/v1/events/${ev.id}`).set(org.auth);
        return res.status === 200 ? res.body : null;
      });
      assert.equal(got.id, ev.id);
      assert.equal(got.organizationId, org.id);
    }
    assert.equal(await redis.exists(keys.eventLog()), 0, 'nothing goes to the unpartitioned stream');
  });

  test('history is complete for every organization when they publish at the same time', async () => {
    const before = await Promise.all(orgs.map((o) => historyIds(app, o)));
    const published = await Promise.all(
      orgs.map((org) =>
        publishBatch(
          app,
          org,
          Array.from({ length: 40 }, (_, i) => eventOf('chat.started', { seq: i })),
        ),
      ),
    );
    for (const [i, org] of orgs.entries()) {
      const ids = await until(async () => {
        const all = await historyIds(app, org);
        return all.length === before[i].length + 40 ? all : null;
      }, 15_000);
      for (const id of published[i]) assert.ok(ids.includes(id), id);
      assert.deepEqual([...published[i]].sort(), published[i], 'ids of one organization sort in publish order');
    }
  });

  test('idempotency is per organization, in its partition', async () => {
    const [a, b] = orgs;
    const body = { id: 'partitioned-idem-1', ...eventOf('message.sent') };
    const first = await app.http.post('/api/v1/events').set(a.auth).send(body).expect(202);
    const retry = await app.http.post('/api/v1/events').set(a.auth).send(body).expect(202);
    const other = await app.http.post('/api/v1/events').set(b.auth).send(body).expect(202);
    assert.equal(retry.body.id, first.body.id);
    assert.notEqual(other.body.id, first.body.id, 'the same key in another organization is another event');
    const tagA = keys.eventLogTag(partitionOf(a.id, PARTITIONS), PARTITIONS);
    assert.equal(await redis.exists(keys.idempotency(a.id, 'partitioned-idem-1', tagA)), 1);
  });

  test('SSE resume with Last-Event-ID for organizations in different partitions: no gap, no duplicate', async () => {
    const firsts = await Promise.all(
      orgs.map(async (org) => {
        const sse = new SseClient(sseUrl(app, 'events=companion.*'), { key: org.key });
        closers.push(() => sse.close());
        await sse.opened;
        const e0 = await publish(app, org, 'companion.activated');
        await sse.waitForEvents(1);
        sse.close();
        return e0.id;
      }),
    );
    const missed: string[][] = orgs.map(() => []);
    for (let round = 0; round < 10; round++) {
      for (const [i, org] of orgs.entries()) {
        missed[i].push(...(await publishBatch(app, org, [eventOf('companion.activated'), eventOf('companion.activated')])));
      }
    }
    const resumed = orgs.map((org, i) => {
      const sse = new SseClient(sseUrl(app, 'events=companion.*'), { key: org.key, lastEventId: firsts[i] });
      closers.push(() => sse.close());
      return sse;
    });
    await Promise.all(resumed.map((sse) => sse.waitForEvents(20, 15_000)));
    const live = await Promise.all(orgs.map((org) => publish(app, org, 'companion.activated')));
    await Promise.all(resumed.map((sse) => sse.waitForEvents(21, 15_000)));
    await sleep(200);
    for (const [i, sse] of resumed.entries()) assert.deepEqual(sse.ids(), [...missed[i], live[i].id]);
  });

  test("webhooks: each organization receives its own events, fanned out through its partition's queue (Bull Board shows them all)", async () => {
    const hooks = await Promise.all(orgs.map((org) => hookFor(app, rx.url, { events: ['usage.*'] }, org)));
    const sent = await Promise.all(orgs.map((org) => publishBatch(app, org, [eventOf('usage.recorded'), eventOf('usage.recorded')])));
    for (const [i, hook] of hooks.entries()) {
      const got = await arrived(rx, hook.path, 2, 20_000);
      assert.deepEqual(got.map((r) => r.headers['webhook-id']).sort(), [...sent[i]].sort());
    }
    await sleep(300);
    for (const hook of hooks) assert.equal(rx.at(hook.path).length, 2, 'no duplicate');
    // each event's fan-out job went to its organization's partition queue (BullMQ's event stream of that queue)
    for (const [i, org] of orgs.entries()) {
      const p = partitionOf(org.id, PARTITIONS);
      const events = await redis.xrange(`${keys.bullPrefix(keys.eventLogTag(p, PARTITIONS))}:webhook-delivery-p${p}:events`, '-', '+');
      const added = events.map(([, f]) => f[f.indexOf('jobId') + 1]);
      for (const id of sent[i])
        assert.ok(
          added.some((job) => job.startsWith(`fanout-${org.id}-`) && job.includes(id)),
          `${id}'s fan-out job in webhook-delivery-p${p}: ${added.join(', ')}`,
        );
    }
    const board = await app.http.get('/admin/queues/api/queues').set('Authorization', BOARD_AUTH).expect(200);
    const names = (board.body.queues as { name: string }[]).map((q) => q.name);
    for (const name of ['webhook-delivery', 'webhook-delivery-p0', 'webhook-delivery-p1', 'webhook-delivery-p2', 'webhook-delivery-p3']) {
      assert.ok(names.includes(name), `Bull Board shows ${name}: ${names.join(', ')}`);
    }
  });

  test("retries, DLQ retry, a paused webhook's backlog and resume, a rate limit: on the organization's partition queue and hash tag", async () => {
    const d: PartitionedDeployment = { app, rx, redis, keys, partitions: PARTITIONS };
    await Promise.all(orgs.slice(0, 2).map((org) => deliveryStaysOnPartition(d, org)));
    for (const org of orgs) {
      const { tag } = partitionPlace(d, org);
      assert.match(tag, /^\{humana:p\d+\}$/);
      for (const key of engineKeys(keys, 'wh_x', org.id, tag)) assert.ok(key.startsWith(`${tag}:`), key);
    }
    const tags = new Set(orgs.map((org) => partitionPlace(d, org).tag));
    assert.equal(tags.size, orgs.length, 'organizations in different partitions: different hash tags');
  });

  test('the trimmer trims each partition, and only below what every consumer group processed there', async () => {
    const [held, free] = orgs;
    await redis.xgroup('CREATE', streamOf(held), 'slow-reader', '$');
    const before = await Promise.all([held, free].map((o) => historyIds(app, o)));
    const published = await Promise.all(
      [held, free].map((org) =>
        publishBatch(
          app,
          org,
          Array.from({ length: 120 }, () => eventOf('chat.started')),
        ),
      ),
    );
    for (const [i, org] of [held, free].entries()) {
      await waitFor(async () => (await historyIds(app, org)).length === before[i].length + 120, 15_000);
    }
    await waitFor(async () => (await redis.xlen(streamOf(free))) <= 50, 10_000, 200);
    await sleep(2_500); // at least two trimming passes
    const kept = await redis.xrange(streamOf(held), '-', '+');
    const keptIds = new Set(kept.map(([sid]) => sid));
    for (const id of published[0]) assert.ok(keptIds.has(logPositionOf(id)!.streamId), `unread by slow-reader, kept: ${id}`);
    await redis.xgroup('DESTROY', streamOf(held), 'slow-reader');
    await waitFor(async () => (await redis.xlen(streamOf(held))) <= 50, 10_000, 200);
  });
});

describe('the partition count is fixed once the log exists', () => {
  test('another count is refused at start (one fatal line, exit 1); EVENT_LOG_PARTITIONS_FORCE=true records the new one', async () => {
    const redisServer = await startPrivateRedis();
    const db = createTestDatabase('sqlite');
    const admin = new Redis(redisServer.url);
    try {
      // a deployment from before partition counts were recorded: one stream under the unpartitioned name
      await admin.xadd(keys.eventLog(), '*', 'o', 'org_old', 't', 'message.sent', 'ts', new Date().toISOString(), 'd', '{}');
      const refused = await spawnApp(
        { REDIS_URL: redisServer.url, DATABASE_URL: db.url, EVENT_LOG_PARTITIONS: '16', LOG_LEVEL: 'info' },
        { waitForStart: false },
      );
      assert.equal((await refused.exited).code, 1);
      const fatal = refused.lines.map(parse).filter((l) => l.level === 'fatal' || l.level === 'error');
      assert.equal(fatal.length, 1, refused.lines.join('\n'));
      assert.equal(fatal[0].level, 'fatal');
      assert.equal(
        fatal[0].msg,
        "humana-events: EVENT_LOG_PARTITIONS=16 but this deployment's event log has 1 partition(s); changing it moves organizations to " +
          'other partitions (see docs/scaling.md: drain, then restart with EVENT_LOG_PARTITIONS_FORCE=true), or set EVENT_LOG_PARTITIONS=1',
      );
      assert.doesNotMatch(refused.stderr.join(''), /\n\s+at /, 'no stack trace');

      const same = await startTestApp({ redis: redisServer, databaseUrl: db.url });
      await same.stop();
      assert.equal(await admin.get(keys.eventLogPartitions()), '1', 'the existing log is recorded as one partition');

      const forced = await startTestApp({
        redis: redisServer,
        databaseUrl: db.url,
        env: { EVENT_LOG_PARTITIONS: '16', EVENT_LOG_PARTITIONS_FORCE: 'true' },
      });
      await forced.stop();
      assert.equal(await admin.get(keys.eventLogPartitions()), '16');
      const again = await startTestApp({ redis: redisServer, databaseUrl: db.url, env: { EVENT_LOG_PARTITIONS: '16' } });
      await again.stop();
    } finally {
      admin.disconnect();
      await db.drop();
      await redisServer.destroy();
    }
  });
});
