import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { WEBHOOK_QUEUES } from '../../src/delivery/queues.js';
import { startTestApp, type TestApp } from '../support/launcher.js';
import { waitFor } from '../support/time.js';
import { dlqOf, hookFor, publish, until } from './fixtures.js';
import { Receiver } from '../support/receiver.js';

let app: TestApp;
let rx: Receiver;
before(async () => {
  app = await startTestApp();
  rx = await Receiver.start();
});
after(async () => {
  await app.close();
  await rx.close();
});

test('DLQ = BullMQ failed set + SQL index: a first-attempt 4xx and an exhausted retry are both failed jobs; DLQ retry and purge remove them', async () => {
  const queue = app.running.app.get<Queue>(getQueueToken(WEBHOOK_QUEUES.delivery));
  const fatal = await hookFor(app, rx.url, { events: ['companion.*'] });
  rx.on(fatal.path, () => ({ status: 410 }));
  const retried = await hookFor(
    app,
    rx.url,
    { events: ['companion.*'], retry: { maxAttempts: 2, backoffMultiplier: 1, maxDelay: 1 } },
    fatal.org,
  );
  rx.on(retried.path, () => ({ status: 503 }));
  await publish(app, fatal.org, 'companion.activated');
  const [e1] = await until(async () => ((await dlqOf(app, fatal)).length ? dlqOf(app, fatal) : null));
  const [e2] = await until(async () => ((await dlqOf(app, retried)).length ? dlqOf(app, retried) : null), 15_000);
  const failedIds = async () => new Set((await queue.getFailed(0, 10_000)).map((j) => j.id));
  await waitFor(async () => {
    const ids = await failedIds();
    return ids.has(`dead-${e1.deliveryId}`) && ids.has(`retry-${e2.deliveryId}`);
  });
  const dead = await queue.getJob(`dead-${e1.deliveryId}`);
  assert.match(String(dead!.failedReason), /HTTP 410/);

  await app.http
    .post(`/api/v1/dlq/${e1.id}/retry`)
    .set(fatal.org.auth)
    .expect((r) => assert.ok(r.status < 300, String(r.status)));
  assert.equal((await failedIds()).has(`dead-${e1.deliveryId}`), false, 'retried: its failed job is gone');
  const purged = await app.http
    .delete(`/api/v1/dlq?olderThan=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)
    .set(fatal.org.auth)
    .expect(200);
  assert.ok(purged.body.purged >= 1);
  assert.equal((await failedIds()).has(`retry-${e2.deliveryId}`), false, 'purged: its failed job is gone');
});
