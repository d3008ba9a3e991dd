import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { RedisKeys } from '../../src/redis/keys.js';
import { createOrg, spawnWorkerOf, startTestApp, type AppProcess, type TestApp } from '../support/launcher.js';
import { Receiver } from '../support/receiver.js';
import { waitFor } from '../support/time.js';
import { hookFor } from '../webhooks/fixtures.js';

const EVENTS = 60;
/** Events c0…c47 are answered at once; the last ones hang on their first request, so the kill lands mid-job. */
const FAST = 48;

let app: TestApp;
let rx: Receiver;
let redis: Redis;
const workers: AppProcess[] = [];

/** A delivery worker as its own process on the test's Redis and database. */
const startWorker = async () => {
  const w = await spawnWorkerOf(app, { WEBHOOK_STALL_MS: '3000' });
  workers.push(w);
  return w;
};

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

test('a worker SIGKILLed during a multi-delivery fan-out job: the new worker repeats only the unfinished deliveries', async () => {
  const org = await createOrg(app);
  const hook = await hookFor(app, rx.url, { events: ['stream.chunk'] }, org);
  const requests = new Map<string, number>();
  const traceparents: string[] = [];
  rx.on(hook.path, (r) => {
    const id = String(r.headers['webhook-id']);
    const n = (requests.get(id) ?? 0) + 1;
    requests.set(id, n);
    traceparents.push(String(r.headers.traceparent));
    const chunk = Number((JSON.parse(r.body) as { data: { chunkId: string } }).data.chunkId.slice(1));
    return chunk >= FAST && n === 1 ? 'hang' : { status: 200 };
  });
  // Published before any worker runs: the matcher reads them as one log batch, i.e. one fan-out job.
  const res = await app.http
    .post('/api/v1/events/batch')
    .set(org.auth)
    .send({
      events: Array.from({ length: EVENTS }, (_, i) => ({
        type: 'stream.chunk',
        data: { streamId: 's1', chunkId: `c${i}`, content: 'x', isComplete: false },
      })),
    })
    .expect(202);
  const ids: string[] = res.body.results.map((r: { id: string }) => r.id);
  const fast = ids.slice(0, FAST);
  const slow = ids.slice(FAST);

  const w1 = await startWorker();
  const redisKeys = new RedisKeys('humana');
  const doneKeys = () => redis.keys(redisKeys.fanoutDone('*', redisKeys.deploymentTag));
  // The kill lands when every fast delivery is settled and recorded in the job's done hash and the slow ones hang.
  await waitFor(
    async () => {
      if (slow.some((id) => !requests.has(id))) return false;
      const keys = await doneKeys();
      return keys.length === 1 && (await redis.hlen(keys[0])) === FAST;
    },
    30_000,
    50,
  );
  assert.equal((await doneKeys()).length, 1, 'all deliveries in one fan-out job');
  await w1.kill('SIGKILL');
  for (const id of fast) assert.equal(requests.get(id), 1, `${id} answered before the kill`);

  await startWorker();
  await waitFor(() => ids.every((id) => (requests.get(id) ?? 0) >= (slow.includes(id) ? 2 : 1)), 60_000, 100);
  await waitFor(
    async () => {
      const page = await app.http.get(`/api/v1/webhooks/${hook.id}/deliveries?status=success&limit=1000`).set(org.auth).expect(200);
      return new Set(page.body.deliveries.map((d: { eventId: string }) => d.eventId)).size === EVENTS;
    },
    15_000,
    250,
  );
  // Settled before the kill: not repeated. Unfinished: exactly once more.
  for (const id of fast) assert.equal(requests.get(id), 1, `${id} not repeated`);
  for (const id of slow) assert.equal(requests.get(id), 2, `${id} repeated once`);
  assert.equal(requests.size, EVENTS);
  // No trace exporter in the workers: still a W3C traceparent on every attempt.
  for (const tp of traceparents) assert.match(tp, /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
});
