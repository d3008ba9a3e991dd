import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../support/launcher.js';
import { Receiver } from '../support/receiver.js';
import { waitFor } from '../support/time.js';
import { arrived, hookFor, publish } from './fixtures.js';

/** Two processes' worth of app on one Redis and database: both run matchers in the `webhooks` consumer group. */
let a: TestApp;
let b: TestApp;
let rx: Receiver;
before(async () => {
  a = await startTestApp();
  b = await startTestApp({ redis: a.redis, databaseUrl: a.databaseUrl });
  rx = await Receiver.start();
});
after(async () => {
  await b.close();
  await a.close();
  await rx.close();
});

const burst = async (app: TestApp, org: Parameters<typeof publish>[1], companionId: string, n = 20) => {
  const res = await app.http
    .post('/api/v1/events/batch')
    .set(org.auth)
    .send({
      events: Array.from({ length: n }, (_, i) => ({
        type: 'message.sent',
        data: { messageId: `m${i}`, companionId, userId: 'user-1', content: 'x', type: 'text', metadata: {} },
      })),
    })
    .expect(202);
  return res.body.results.map((r: { id: string }) => r.id) as string[];
};

test('a webhook receives only events published after it was created, even from a matcher backlog', async () => {
  const apiOnly = await startTestApp({ env: { ROLE: 'api' } });
  let worker: TestApp | undefined;
  try {
    const hook = await hookFor(apiOnly, rx.url, { events: ['companion.*'] });
    const early = await publishActivated(apiOnly, hook);
    await new Promise((r) => setTimeout(r, 20));
    const late = await hookFor(apiOnly, rx.url, { events: ['companion.*'] }, hook.org);
    const after = await publishActivated(apiOnly, hook);
    // Only now does a matcher start, with both events waiting in the log.
    worker = await startTestApp({ redis: apiOnly.redis, databaseUrl: apiOnly.databaseUrl });
    await arrived(rx, hook.path, 2);
    await arrived(rx, late.path, 1);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(
      rx
        .at(hook.path)
        .map((r) => r.headers['webhook-id'])
        .sort(),
      [early, after].sort(),
    );
    assert.deepEqual(
      rx.at(late.path).map((r) => r.headers['webhook-id']),
      [after],
    );
  } finally {
    await worker?.stop();
    await apiOnly.close();
  }
});

async function publishActivated(app: TestApp, hook: Awaited<ReturnType<typeof hookFor>>): Promise<string> {
  return (await publish(app, hook.org, 'companion.activated')).id;
}

test('the subscription index of every process follows changes made through any process', async () => {
  // Created through A: B's matcher must know it too (events are split between the two matchers).
  const hook = await hookFor(a, rx.url, { events: ['message.*'], filters: { companionId: ['comp-1'] } });
  await new Promise((r) => setTimeout(r, 200));
  const first = await burst(b, hook.org, 'comp-1');
  await arrived(rx, hook.path, first.length);
  assert.deepEqual(
    rx
      .at(hook.path)
      .map((r) => r.headers['webhook-id'])
      .sort(),
    [...first].sort(),
  );

  // Filter changed through B: no process may deliver comp-1 any more, every process delivers comp-2.
  await b.http
    .patch(`/api/v1/webhooks/${hook.id}`)
    .set(hook.org.auth)
    .send({ filters: { companionId: ['comp-2'] } })
    .expect(200);
  await new Promise((r) => setTimeout(r, 200));
  const excluded = await burst(a, hook.org, 'comp-1');
  const second = await burst(a, hook.org, 'comp-2');
  await arrived(rx, hook.path, first.length + second.length);
  await new Promise((r) => setTimeout(r, 300));
  const ids = rx.at(hook.path).map((r) => String(r.headers['webhook-id']));
  assert.ok(!excluded.some((id) => ids.includes(id)), 'no stale index delivered an excluded event');
  assert.equal(ids.length, first.length + second.length);

  // Disabled through A: nothing is delivered by either process.
  await a.http.patch(`/api/v1/webhooks/${hook.id}`).set(hook.org.auth).send({ enabled: false }).expect(200);
  await new Promise((r) => setTimeout(r, 200));
  await burst(b, hook.org, 'comp-2');
  // A marker webhook proves the burst was matched before we look.
  const marker = await hookFor(b, rx.url, { events: ['chat.*'] }, hook.org);
  await new Promise((r) => setTimeout(r, 200));
  await publish(a, hook.org, 'chat.started');
  await waitFor(() => rx.at(marker.path).length === 1);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(rx.at(hook.path).length, first.length + second.length);
});
