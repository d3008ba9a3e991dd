import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createOrg, startTestApp, type TestApp } from '../support/launcher.js';
import { Receiver } from '../support/receiver.js';
import { waitFor } from '../support/time.js';
import { hookFor } from './fixtures.js';

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));
const EVENTS = 400;

/** A delivery worker as its own process (`node dist/src/main.js`, ROLE=worker) on the test's Redis and database. */
function startWorker(app: TestApp): ChildProcess {
  return spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      ROLE: 'worker',
      REDIS_URL: app.redis.url,
      DATABASE_URL: app.databaseUrl,
      LOG_LEVEL: 'warn',
      WEBHOOK_CONCURRENCY: '8',
      WEBHOOK_STALL_MS: '3000',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

async function stop(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await exited;
}

let app: TestApp;
let rx: Receiver;
let w1: ChildProcess | undefined;
let w2: ChildProcess | undefined;
before(async () => {
  app = await startTestApp({ env: { ROLE: 'api' } });
  rx = await Receiver.start();
});
after(async () => {
  await stop(w1, 'SIGKILL');
  await stop(w2, 'SIGTERM');
  await app.close();
  await rx.close();
});

test('at-least-once: a worker killed with SIGKILL mid-run loses nothing; de-duplicating by webhook-id gives exactly one each', async (t) => {
  const org = await createOrg(app);
  const hook = await hookFor(app, rx.url, { events: ['*'], retry: { maxAttempts: 5, backoffMultiplier: 1, maxDelay: 1 } }, org);
  // Slow enough that the kill lands mid-run; every 10th event fails its first attempt so retry jobs are in flight too.
  const firstTry = new Set<string>();
  /** What a receiver de-duplicating by webhook-id keeps: one entry per id, with how often it was accepted. */
  const accepted = new Map<string, number>();
  rx.on(hook.path, (r) => {
    const id = String(r.headers['webhook-id']);
    if (id.endsWith('0') && !firstTry.has(id)) {
      firstTry.add(id);
      return { status: 500, delayMs: 10 };
    }
    accepted.set(id, (accepted.get(id) ?? 0) + 1);
    return { status: 200, delayMs: 15 };
  });
  const published: string[] = [];
  for (let i = 0; i < EVENTS; i += 200) {
    const res = await app.http
      .post('/api/v1/events/batch')
      .set(org.auth)
      .send({
        events: Array.from({ length: 200 }, (_, j) => ({
          type: 'stream.chunk',
          data: { streamId: 's1', chunkId: `c${i + j}`, content: 'x', isComplete: false },
        })),
      })
      .expect(202);
    published.push(...res.body.results.map((r: { id: string }) => r.id));
  }
  assert.equal(published.length, EVENTS);

  w1 = startWorker(app);
  await waitFor(() => accepted.size >= EVENTS / 4, 30_000);
  await stop(w1, 'SIGKILL');
  const atKill = accepted.size;
  assert.ok(atKill < EVENTS, `killed mid-run (${atKill} of ${EVENTS} delivered)`);

  w2 = startWorker(app);
  await waitFor(() => accepted.size === EVENTS, 60_000, 200);
  for (const id of published) assert.ok(accepted.has(id), `${id} arrived`);
  assert.equal(accepted.size, EVENTS, 'exactly one per event after de-duplication');
  const duplicates = [...accepted.values()].reduce((a, b) => a + b, 0) - EVENTS;
  t.diagnostic(`killed after ${atKill} of ${EVENTS}; ${duplicates} duplicate deliveries (at-least-once)`);

  // Every delivery ends as a success in the log (the receiver answered 200 for each eventually).
  await waitFor(
    async () => {
      const res = await app.http.get(`/api/v1/webhooks/${hook.id}/deliveries?status=success&limit=1000`).set(org.auth).expect(200);
      return new Set(res.body.deliveries.map((d: { eventId: string }) => d.eventId)).size === EVENTS;
    },
    15_000,
    250,
  );
  const dlq = await app.http.get('/api/v1/dlq').set(org.auth).expect(200);
  assert.equal(dlq.body.failedWebhooks.length, 0);
});
