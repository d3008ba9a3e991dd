import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { DeliveryQueue, FAIR_SHARE, laneOf } from '../../src/delivery/delivery-queue.js';
import { deliveryIdFor, deliveryQueueSpecs, fanoutJobId, WEBHOOK_QUEUES, type FanoutJobData } from '../../src/delivery/queues.js';
import { RedisKeys } from '../../src/redis/keys.js';
import { spawnWorkerOf, startTestApp, type AppProcess, type TestApp } from '../support/launcher.js';
import { Receiver } from '../support/receiver.js';
import { waitFor } from '../support/time.js';
import { arrived, hookFor, publish, publishFlood } from '../webhooks/fixtures.js';

const keys = new RedisKeys('humana');
let app: TestApp;
let rx: Receiver;
let redis: Redis;
const workers: AppProcess[] = [];

/** A worker process of one delivery lane on the test's Redis and database. */
const startWorker = async (lane: 'main' | 'overflow') => {
  const w = await spawnWorkerOf(app, { WORKER_LANE: lane });
  workers.push(w);
  return w;
};

/** Fan-out job ids in one of a queue's sets (`completed`, `wait`, `prioritized`). */
const jobsIn = async (queue: string, set: 'completed' | 'wait' | 'prioritized'): Promise<string[]> => {
  const key = `${keys.bullPrefix()}:${queue}:${set}`;
  return set === 'wait' ? redis.lrange(key, 0, -1) : redis.zrange(key, 0, -1);
};
/** The ids among `ids` of the organization's fan-out jobs. */
const ofOrg = (ids: string[], org: { id: string }) => ids.filter((id) => id.startsWith(`fanout-${org.id}-`));
const jobExists = async (queue: string, id: string) => (await redis.exists(`${keys.bullPrefix()}:${queue}:${id}`)) === 1;

/** The niceness of a process (field 19 of /proc/PID/stat, counted after the command's closing parenthesis). */
const niceOf = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[16]);

before(async () => {
  app = await startTestApp({ env: { ROLE: 'api' } });
  rx = await Receiver.start();
  redis = new Redis(app.redis.url);
});
after(async () => {
  for (const w of workers) await w.kill('SIGKILL');
  redis.disconnect();
  await app.close();
  await rx.close();
});

test('lanes: within its fair share an organization is in the main lane, beyond it in the overflow lane; one queue each', () => {
  assert.equal(laneOf(0), 'main');
  assert.equal(laneOf(1), 'overflow');
  assert.deepEqual(
    deliveryQueueSpecs(keys, 1).map((q) => [q.name, q.lane]),
    [
      [WEBHOOK_QUEUES.delivery, 'main'],
      [WEBHOOK_QUEUES.overflow, 'overflow'],
    ],
  );
  const partitioned = deliveryQueueSpecs(keys, 2);
  assert.deepEqual(
    partitioned.map((q) => q.name),
    ['webhook-delivery', 'webhook-delivery-p0', 'webhook-delivery-p1', 'webhook-overflow-p0', 'webhook-overflow-p1'],
  );
  assert.equal(partitioned[3].prefix, partitioned[1].prefix, "a partition's overflow queue shares its hash tag");
});

test('a batch matched again (redelivered) keeps its jobs in the lane they are in, and is not counted again', async () => {
  const queue = app.running.app.get(DeliveryQueue);
  const org = 'org_lanes_rematch';
  const counter = keys.orgFanouts(org, keys.deploymentTag);
  const event = {
    id: 'evt_lanes_rematch_1',
    type: 'message.sent' as const,
    timestamp: new Date().toISOString(),
    organizationId: org,
    data: {},
  };
  const job: FanoutJobData = {
    organizationId: org,
    items: [{ event, targets: [{ webhookId: 'wh_gone', deliveryId: deliveryIdFor(event.id, 'wh_gone'), kind: 'event' }] }],
  };
  const id = fanoutJobId(job);
  await redis.set(counter, String(FAIR_SHARE)); // the organization has its fair share queued already
  await queue.addFanouts([job]);
  assert.ok(await jobExists(WEBHOOK_QUEUES.overflow, id), 'beyond the fair share: overflow lane');
  assert.equal(await redis.get(counter), String(FAIR_SHARE + 1));

  await redis.del(counter); // its share is free again when the batch is matched a second time
  await queue.addFanouts([job], { redelivered: true });
  assert.equal(await jobExists(WEBHOOK_QUEUES.delivery, id), false, 'not added to the main lane as well');
  assert.equal(await redis.get(counter), null, 'a job found queued is not counted twice');

  await queue.addFanouts([job]); // without the flag it would have gone to the (now free) main lane
  assert.ok(await jobExists(WEBHOOK_QUEUES.delivery, id));
});

test('a flood beyond its share waits in the overflow lane while the quiet organization is delivered; the overflow worker delivers it all, once', async () => {
  const FLOOD = 1500;
  const QUIET = 5;
  const main = await startWorker('main');
  const flood = await hookFor(app, rx.url, { events: ['message.sent'] });
  const quiet = await hookFor(app, rx.url, { events: ['message.sent'] });
  await publishFlood(app, flood.org, FLOOD, 500);
  for (let n = 0; n < QUIET; n++) await publish(app, quiet.org, 'message.sent');
  await arrived(rx, quiet.path, QUIET, 20_000);

  // No overflow-lane worker yet: the main lane delivered the flood's fair share and the quiet organization only.
  const waiting = async () => [
    ...(await jobsIn(WEBHOOK_QUEUES.overflow, 'wait')),
    ...(await jobsIn(WEBHOOK_QUEUES.overflow, 'prioritized')),
  ];
  const overflowJobs = await waitFor(async () => {
    const ids = await waiting();
    return ids.length ? ids : null;
  }, 10_000);
  assert.ok(ofOrg(overflowJobs!, flood.org).length > 0, "the flood's jobs beyond its share wait in the overflow lane");
  assert.deepEqual(ofOrg(overflowJobs!, quiet.org), [], 'none of the quiet organization');
  assert.ok(rx.at(flood.path).length < FLOOD, `the flood waits (${rx.at(flood.path).length} of ${FLOOD} delivered)`);
  // a job completes once its deliveries' log rows are committed, just after they arrived
  await waitFor(async () => ofOrg(await jobsIn(WEBHOOK_QUEUES.delivery, 'completed'), quiet.org).length > 0, 10_000);

  const health = () => app.http.get('/api/v1/events/health');
  const noOverflow = await health();
  assert.equal(noOverflow.body.checks.webhook_processor, 'unhealthy', 'health says the overflow lane has no worker');
  assert.match(noOverflow.body.errors.webhook_processor, /no delivery worker of the overflow lane/);

  const overflow = await startWorker('overflow');
  // up once its delivery worker beats (spawnWorkerOf returns a worker process at once)
  await waitFor(async () => (await redis.zrange(keys.workerHeartbeats(), 0, -1)).some((w) => w.endsWith(`-${overflow.pid}`)), 20_000);
  assert.equal(niceOf(overflow.pid!), 10, 'an overflow-lane worker lowers its CPU priority');
  assert.equal(niceOf(main.pid!), 0);
  await waitFor(async () => (await health()).body.checks.webhook_processor === 'healthy', 20_000);
  const got = await arrived(rx, flood.path, FLOOD, 60_000);
  const ids = got.map((r) => String(r.headers['webhook-id']));
  assert.equal(new Set(ids).size, FLOOD, 'every flood delivery arrived once');
  assert.equal(rx.at(quiet.path).length, QUIET);
  const overflowDone = await jobsIn(WEBHOOK_QUEUES.overflow, 'completed');
  assert.ok(ofOrg(overflowDone, flood.org).length > 0);
  assert.deepEqual(ofOrg(overflowDone, quiet.org), []);
});
