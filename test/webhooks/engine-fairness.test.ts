import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fairPriority, FAIR_SHARE } from '../../src/delivery/delivery-queue.js';
import { exampleEvents } from '../../src/events/catalog.js';
import { startTestApp, type TestApp } from '../support/launcher.js';
import { arrived, hookFor, publish } from './fixtures.js';
import { Receiver } from '../support/receiver.js';

let app: TestApp;
let rx: Receiver;
before(async () => {
  // Few delivery slots, so a flood really queues.
  app = await startTestApp({ env: { WEBHOOK_CONCURRENCY: '8' } });
  rx = await Receiver.start();
});
after(async () => {
  await app.close();
  await rx.close();
});

test('fairPriority: an organization share without priority, then increasing priority numbers', () => {
  assert.equal(fairPriority(0), 0);
  assert.equal(fairPriority(FAIR_SHARE - 1), 0);
  assert.equal(fairPriority(FAIR_SHARE), 1);
  assert.equal(fairPriority(3 * FAIR_SHARE), 3);
});

test('a flooding organization does not hold back a quiet one: its delivery arrives within 1.5 s during the flood', async () => {
  const FLOOD = 3000;
  const flood = await hookFor(app, rx.url, { events: ['message.sent'] });
  rx.on(flood.path, () => ({ status: 200, delayMs: 15 }));
  const quiet = await hookFor(app, rx.url, { events: ['message.sent'] });
  for (let i = 0; i < FLOOD; i += 1000) {
    const events = Array.from({ length: 1000 }, (_, j) => ({
      type: 'message.sent',
      data: { ...exampleEvents['message.sent'], content: `f${i + j}` },
    }));
    await app.http.post('/api/v1/events/batch').set(flood.org.auth).send({ events }).expect(202);
  }
  // Let the flood's fan-out jobs queue up first.
  await arrived(rx, flood.path, 50, 20_000);
  const sentAt = Date.now();
  await publish(app, quiet.org, 'message.sent');
  const [r] = await arrived(rx, quiet.path, 1, 20_000);
  const waited = r.at - sentAt;
  const floodDone = rx.at(flood.path).length;
  assert.ok(floodDone < FLOOD, `the flood was still being delivered (${floodDone} of ${FLOOD})`);
  assert.ok(waited < 1500, `the quiet organization's delivery took ${waited} ms behind a flood of ${FLOOD}`);
});
