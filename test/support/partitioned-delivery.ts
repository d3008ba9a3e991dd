import assert from 'node:assert/strict';
import type { Cluster, Redis } from 'ioredis';
import { partitionOf } from '../../src/events/partitions.js';
import type { HashTag, RedisKeys } from '../../src/redis/keys.js';
import { arrived, deliveriesOf, deliveryIn, dlqOf, hookFor, publish, until, type Hook } from '../webhooks/fixtures.js';
import { eventOf, publishBatch } from '../realtime/clients.js';
import type { TestApp, TestOrg } from './launcher.js';
import type { Receiver } from './receiver.js';
import { waitFor } from './time.js';

/** A running app with EVENT_LOG_PARTITIONS = `partitions` (> 1) and a connection to its Redis (one node or a cluster). */
export interface PartitionedDeployment {
  app: TestApp;
  rx: Receiver;
  redis: Redis | Cluster;
  keys: RedisKeys;
  partitions: number;
}

/** Where one organization's delivery work must be: its partition's hash tag and delivery queue (BullMQ key prefix + name). */
export function partitionPlace(d: PartitionedDeployment, org: TestOrg): { partition: number; tag: HashTag; queue: string } {
  const partition = partitionOf(org.id, d.partitions);
  const tag = d.keys.eventLogTag(partition, d.partitions);
  return { partition, tag, queue: `${d.keys.bullPrefix(tag)}:webhook-delivery-p${partition}` };
}

/** Every delivery engine key of a webhook under `tag` (they must all share its slot). */
export function engineKeys(keys: RedisKeys, webhookId: string, organizationId: string, tag: HashTag): string[] {
  return [
    keys.webhookHealth(webhookId, tag),
    keys.webhookBacklog(webhookId, tag),
    keys.webhookBacklogData(webhookId, tag),
    keys.webhookDrain(webhookId, tag),
    keys.webhookDrainLock(webhookId, tag),
    keys.webhookRate(webhookId, tag),
    keys.webhookSequence(webhookId, tag),
    keys.webhookPending(webhookId, tag),
    keys.webhookBatch(webhookId, tag),
    keys.webhookBatchLock(webhookId, tag),
    keys.webhookReplayLock(webhookId, tag),
    keys.orgFanouts(organizationId, tag),
    keys.fanoutDone(`fanout-${organizationId}-x`, tag),
  ];
}

/** Ids of the jobs a BullMQ queue (`<prefix>:<name>`) has seen, from its event stream. */
async function jobsSeen(redis: Redis | Cluster, queue: string): Promise<string[]> {
  const entries = await redis.xrange(`${queue}:events`, '-', '+');
  return entries.map(([, f]) => f[f.indexOf('jobId') + 1]).filter((id): id is string => id !== undefined);
}

const MAIN_QUEUE = (keys: RedisKeys) => `${keys.bullPrefix()}:webhook-delivery`;

/**
 * The delivery work of one organization's webhooks runs on its partition: a webhook whose receiver fails twice (its
 * retry jobs), a dead-lettered delivery retried from the DLQ (its `dead` job), a paused webhook's backlog drained on
 * resume, and a rate-limited webhook. Their jobs are on the partition's queue and never on the main one; their engine
 * keys carry the partition's tag, never the deployment's.
 */
export async function deliveryStaysOnPartition(d: PartitionedDeployment, org: TestOrg): Promise<void> {
  const { app, rx, redis, keys } = d;
  const { tag, queue } = partitionPlace(d, org);
  const fast = { maxAttempts: 5, backoffMultiplier: 1, maxDelay: 1 };

  const retrying = await hookFor(app, rx.url, { events: ['chat.*'], retry: fast }, org);
  rx.on(retrying.path, (_, nth) => ({ status: nth <= 2 ? 503 : 200 }));
  const dead = await hookFor(app, rx.url, { events: ['chat.*'], retry: fast }, org);
  rx.on(dead.path, (_, nth) => ({ status: nth === 1 ? 410 : 200 }));
  const paused = await hookFor(app, rx.url, { events: ['usage.*'] }, org);
  await app.http.post(`/api/v1/webhooks/${paused.id}/pause`).set(org.auth).expect(200);
  const limited = await hookFor(app, rx.url, { events: ['usage.*'], rateLimit: { perSecond: 2 } }, org);

  // Retries: two 503s, then delivered by the third attempt, through retry jobs on the partition's queue.
  const chat = await publish(app, org, 'chat.started');
  const got = await arrived(rx, retrying.path, 3, 30_000);
  assert.deepEqual(
    got.map((r) => r.headers['webhook-id']),
    [chat.id, chat.id, chat.id],
  );
  const delivered = await deliveryIn(app, retrying, 'success', 30_000);
  assert.equal(delivered.attemptHistory.length, 3);
  assert.ok((await jobsSeen(redis, queue)).includes(`retry-${delivered.id}`), `retry-${delivered.id} on ${queue}`);

  // DLQ: the 410 made a failed `dead` job on the partition's queue; a DLQ retry delivers it and removes that job.
  const [entry] = await until(async () => {
    const entries = await dlqOf(app, dead);
    return entries.length ? entries : null;
  }, 20_000);
  const deadJob = `${queue}:dead-${entry.deliveryId}`;
  await waitFor(async () => (await redis.zscore(`${queue}:failed`, `dead-${entry.deliveryId}`)) !== null, 10_000);
  await app.http
    .post(`/api/v1/dlq/${entry.id}/retry`)
    .set(org.auth)
    .expect((r) => assert.ok(r.status < 300, `${r.status} ${JSON.stringify(r.body)}`));
  const again = await arrived(rx, dead.path, 2, 20_000);
  assert.equal(again[1].headers['webhook-id'], chat.id);
  await waitFor(async () => (await deliveriesOf(app, dead, '?status=success')).length === 1, 20_000);
  assert.equal(await redis.exists(deadJob), 0, 'the DLQ retry removed the failed job from the partition queue');

  // Pause: events wait in the backlog under the partition's tag; resume drains them in log order.
  // One batch: one fan-out job, so the rate-limited webhook's first delivery takes the token and the others are held.
  const usage = await publishBatch(
    app,
    org,
    Array.from({ length: 4 }, () => eventOf('usage.recorded')),
  );
  const backlog = await until(async () => {
    const b = (await app.http.get(`/api/v1/webhooks/${paused.id}/backlog`).set(org.auth).expect(200)).body;
    return b.pending === 4 ? b : null;
  }, 20_000);
  assert.equal(backlog.pending, 4);
  assert.equal(await redis.zcard(keys.webhookBacklog(paused.id, tag)), 4);
  assert.equal(await redis.hget(keys.webhookHealth(paused.id, tag), 'paused'), '1');
  assert.equal(rx.at(paused.path).length, 0, 'nothing sent while paused');
  // The rate-limited webhook got the same events: held beyond its first token, sent by drains at its rate.
  await waitFor(async () => (await redis.exists(keys.webhookRate(limited.id, tag))) === 1, 20_000, 20);
  await app.http.post(`/api/v1/webhooks/${paused.id}/resume`).set(org.auth).expect(200);
  const drained = await arrived(rx, paused.path, 4, 30_000);
  assert.deepEqual(
    drained.map((r) => r.headers['webhook-id']),
    usage,
    'in log order',
  );
  const limitedGot = await arrived(rx, limited.path, 4, 30_000);
  assert.deepEqual(limitedGot.map((r) => r.headers['webhook-id']).sort(), [...usage].sort());
  await waitFor(async () => (await deliveriesOf(app, limited, '?status=success')).length === 4, 20_000);
  await waitFor(async () => (await redis.zcard(keys.webhookBacklog(paused.id, tag))) === 0, 20_000);

  const seen = await jobsSeen(redis, queue);
  for (const hook of [paused, limited] as Hook[])
    assert.ok(
      seen.some((id) => id.startsWith(`drain-${hook.id}-`)),
      `a drain job of ${hook.id} on ${queue}`,
    );
  const onMain = await jobsSeen(redis, MAIN_QUEUE(keys));
  for (const hook of [retrying, dead, paused, limited])
    assert.ok(!onMain.some((id) => id.includes(hook.id)), `no job of ${hook.id} on the main queue`);
  assert.ok(!onMain.includes(`retry-${delivered.id}`) && !onMain.includes(`dead-${entry.deliveryId}`));
  for (const hook of [retrying, dead, paused, limited])
    for (const key of engineKeys(keys, hook.id, org.id, keys.deploymentTag))
      assert.equal(await redis.exists(key), 0, `nothing under the deployment tag: ${key}`);
}
