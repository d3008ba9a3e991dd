import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createOrg, startTestApp, type TestApp } from '../support/launcher.js';
import { waitFor } from '../support/time.js';
import { hookFor, until } from './fixtures.js';
import { Receiver } from '../support/receiver.js';

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));

function startWorker(app: TestApp): ChildProcess {
  return spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      ROLE: 'worker',
      REDIS_URL: app.redis.url,
      DATABASE_URL: app.databaseUrl,
      LOG_LEVEL: 'warn',
      WEBHOOK_CONCURRENCY: '16',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

let app: TestApp;
let rx: Receiver;
const workers: ChildProcess[] = [];
before(async () => {
  app = await startTestApp({ env: { ROLE: 'api' } });
  rx = await Receiver.start();
});
after(async () => {
  await Promise.all(workers.map(stop));
  await app.close();
  await rx.close();
});

test('rate limit per endpoint, enforced across two worker processes: spaced at the receiver, nothing dropped or failed', async () => {
  const PER_SECOND = 10;
  const EVENTS = 35;
  const org = await createOrg(app);
  const hook = await hookFor(app, rx.url, { events: ['*'], rateLimit: { perSecond: PER_SECOND } }, org);
  const other = await hookFor(app, rx.url, { events: ['*'] }, org);
  workers.push(startWorker(app), startWorker(app));
  // Both workers are up when the other (unlimited) webhook of the organization gets a delivery.
  await app.http
    .post('/api/v1/events')
    .set(org.auth)
    .send({ type: 'stream.chunk', data: { streamId: 's0', chunkId: 'c', content: 'x', isComplete: false } })
    .expect(202);
  await waitFor(() => rx.at(other.path).length >= 1, 30_000);
  const start = rx.received.length;
  // Several requests, so both workers' matchers and fan-outs take part.
  for (let i = 0; i < EVENTS; i += 5) {
    const events = Array.from({ length: 5 }, (_, j) => ({
      type: 'stream.chunk',
      data: { streamId: 's1', chunkId: `c${i + j}`, content: 'x', isComplete: false },
    }));
    await app.http.post('/api/v1/events/batch').set(org.auth).send({ events }).expect(202);
  }
  const got = await until(() => {
    const mine = rx.received.slice(start).filter((r) => r.path === hook.path);
    return mine.length >= EVENTS ? mine : null;
  }, 30_000);
  const times = got.map((r) => r.at).sort((a, b) => a - b);
  const span = times[times.length - 1] - times[0];
  assert.ok(span >= ((EVENTS - 1) * 1000) / PER_SECOND - 300, `${EVENTS} deliveries spread over ${span} ms`);
  let maxInSecond = 0;
  for (let i = 0; i < times.length; i++) {
    let j = i;
    while (j < times.length && times[j] - times[i] < 1000) j++;
    maxInSecond = Math.max(maxInSecond, j - i);
  }
  assert.ok(maxInSecond <= PER_SECOND + 1, `at most ${PER_SECOND} (+1 at a window edge) in any second, saw ${maxInSecond}`);
  assert.equal(new Set(got.map((r) => r.headers['webhook-id'])).size, EVENTS, 'each event once');
  const deliveries = await until(async () => {
    const res = await app.http.get(`/api/v1/webhooks/${hook.id}/deliveries?limit=1000`).set(org.auth).expect(200);
    const ds = res.body.deliveries as { status: string; attempts: number }[];
    // EVENTS, plus the warm-up event (the webhook takes every type).
    return ds.filter((d) => d.status === 'success').length === EVENTS + 1 ? ds : null;
  }, 10_000);
  assert.ok(
    deliveries.every((d) => d.attempts === 1),
    'rate-limited deliveries are delayed, not counted as failed attempts',
  );
});
