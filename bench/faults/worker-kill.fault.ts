import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { printAccounting } from '../lib/accounting.js';
import { waitDeliveries } from '../lib/webhooks.js';
import { nowMs, sleep } from '../../test/support/time.js';
import { faultSeconds, seededRandom, startRig, type FaultRig } from './support.js';
const HOOKS = 5;

describe('fault: ROLE=worker processes killed with SIGKILL at random moments and restarted', () => {
  let rig: FaultRig;
  before(async () => {
    // Short stall detection so work held by a killed worker is taken over within seconds, not the default 30 s.
    rig = await startRig({ roles: ['api', 'worker', 'worker'], env: { WEBHOOK_STALL_MS: '2000' } });
  });
  after(() => rig?.stop());

  test('zero deliveries lost; duplicates only as repeats with the same webhook-id', async () => {
    const { stack, receiver } = rig;
    await rig.webhooks(HOOKS);
    const seconds = faultSeconds();
    const rng = seededRandom();
    const publishing = rig.publish({ collectIds: false, rate: 200, maxInFlight: 8 });
    const workers = stack.procs.filter((p) => p.role === 'worker');
    const kills: { pid: number | undefined; atMs: number }[] = [];
    const end = nowMs() + seconds * 1000;
    while (nowMs() < end - 1500) {
      await sleep(500 + rng.next() * 1500);
      const victim = workers[Math.floor(rng.next() * workers.length)];
      kills.push({ pid: victim.pid, atMs: Math.round(nowMs()) });
      await victim.kill('SIGKILL');
      await sleep(200 + rng.next() * 800);
      await victim.start();
    }
    const outcome = await publishing;
    const expected = outcome.acked * HOOKS;
    const got = await waitDeliveries(receiver, expected, 20_000);
    const dead = await rig.dlq();
    printAccounting(
      'worker-kill',
      {
        published: outcome.offered,
        acknowledged: outcome.acked,
        delivered: got.unique,
        deadLettered: dead.length,
        duplicates: got.duplicates,
        lost: expected - got.unique,
      },
      { webhooks: HOOKS, expectedDeliveries: expected, kills: kills.length, seed: rng.seed, webhookIdMismatches: got.webhookIdMismatches },
    );

    assert.ok(kills.length >= 1, 'workers were killed during the run');
    assert.equal(outcome.acked, outcome.offered, 'every publish acknowledged (the API was never killed)');
    assert.equal(got.unique, expected, 'every acknowledged event reached every webhook');
    assert.equal(dead.length, 0, 'nothing dead-lettered: the receiver never failed');
    assert.equal(got.webhookIdMismatches, 0, "repeats carry the first delivery's webhook-id");
    assert.equal(got.badSignatures, 0);
  });
});
