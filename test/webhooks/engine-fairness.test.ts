import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { FairSlots } from '../../src/common/concurrency.js';
import { fairPriority, FAIR_SHARE } from '../../src/delivery/delivery-queue.js';
import { ATTEMPTS_IN_FLIGHT } from '../../src/delivery/delivery-runner.js';
import { FANOUT_CHUNK } from '../../src/delivery/queues.js';
import { startTestApp, type TestApp } from '../support/launcher.js';
import { arrived, hookFor, publish, publishFlood } from './fixtures.js';
import { Receiver } from '../support/receiver.js';

/** Few delivery slots, so a flood really queues. */
const JOB_SLOTS = 8;
let app: TestApp;
let rx: Receiver;
before(async () => {
  app = await startTestApp({ env: { WEBHOOK_CONCURRENCY: String(JOB_SLOTS) } });
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

test('FairSlots: a waiting key is served at the next free slot, before the rest of a flooding key; ranks order a key', async () => {
  const slots = new FairSlots(2, 60_000);
  const started: string[] = [];
  const gates: (() => void)[] = [];
  const task = (name: string) => () => {
    started.push(name);
    return new Promise<void>((r) => gates.push(r));
  };
  const all = [slots.run('flood', task('f0')), slots.run('flood', task('f1'))];
  for (let i = 2; i < 6; i++) all.push(slots.run('flood', task(`f${i}`), 10 + i));
  all.push(slots.run('flood', task('older'), 1)); // an older job's attempt goes before the younger ones of its key
  all.push(slots.run('quiet', task('q0')));
  const step = async () => {
    gates.shift()!();
    await new Promise((r) => setImmediate(r));
  };
  assert.deepEqual(started, ['f0', 'f1']);
  await step();
  assert.deepEqual(started, ['f0', 'f1', 'older'], 'the flood came first in the ring (arrived first)');
  await step();
  assert.deepEqual(started.slice(3), ['q0'], 'the quiet key is served at the next free slot, not after the flood');
  while (gates.length) await step();
  await Promise.all(all);
  assert.deepEqual(started.slice(4), ['f2', 'f3', 'f4', 'f5']);
});

test('FairSlots: a task held longer than holdMaxMs gives its slot up, so a slow key cannot keep the others waiting', async () => {
  const slots = new FairSlots(2, 50);
  const started: string[] = [];
  let openSlow!: () => void;
  const slowGate = new Promise<void>((r) => (openSlow = r));
  const slow = (name: string) => () => {
    started.push(name);
    return slowGate;
  };
  const all = [slots.run('slow', slow('s0')), slots.run('slow', slow('s1')), slots.run('slow', slow('s2'))];
  const quiet = slots.run('quiet', async () => void started.push('q0'));
  await quiet; // resolves only once a slow task gave its slot up
  assert.deepEqual(started.slice(0, 2), ['s0', 's1']);
  assert.ok(started.includes('q0'), 'the quiet task ran while the slow ones were still running');
  openSlow();
  await Promise.all(all);
});

test('a quiet organization is not queued behind a flood: its deliveries arrive while the flood is far from drained', async () => {
  const FLOOD = 3000;
  const QUIET = 5;
  const flood = await hookFor(app, rx.url, { events: ['message.sent'] });
  rx.on(flood.path, () => ({ status: 200, delayMs: 15 }));
  const quiet = await hookFor(app, rx.url, { events: ['message.sent'] });
  await publishFlood(app, flood.org, FLOOD, 1000);
  // Let the flood's fan-out jobs queue up first.
  await arrived(rx, flood.path, 50, 20_000);
  // Bound (docs/delivery-engine.md, fairness): a quiet delivery waits behind the flood's fair share, for one job slot
  // to free (at most every running job's deliveries) and for one attempt slot (round-robin): so many flood deliveries.
  const bound = FAIR_SHARE + JOB_SLOTS * FANOUT_CHUNK + ATTEMPTS_IN_FLIGHT;
  for (let n = 1; n <= QUIET; n++) {
    const before = rx.at(flood.path).length;
    await publish(app, quiet.org, 'message.sent');
    await arrived(rx, quiet.path, n, 20_000);
    const meanwhile = rx.at(flood.path).length - before;
    assert.ok(meanwhile <= bound, `quiet delivery ${n} waited for ${meanwhile} flood deliveries (bound ${bound})`);
  }
  const floodDone = rx.at(flood.path).length;
  assert.ok(floodDone < FLOOD, `every quiet delivery arrived while the flood was still being delivered (${floodDone} of ${FLOOD})`);
});
