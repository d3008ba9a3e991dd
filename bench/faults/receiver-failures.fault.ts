import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { printAccounting } from '../lib/accounting.js';
import { waitDeliveries } from '../lib/webhooks.js';
import { startRig, type FaultRig } from './support.js';
const HOOKS = 3;
const RETRY = { maxAttempts: 4, backoffMultiplier: 1, maxDelay: 1 };

describe('fault: a receiver failing at random for the whole run (30% 500, 10% timeouts, 5% resets)', () => {
  let rig: FaultRig;
  before(async () => {
    rig = await startRig({ roles: ['api', 'worker'] });
  });
  after(() => rig?.stop());

  test('every delivery arrives once the faults stop, or is in the DLQ with its attempts; none unaccounted', async () => {
    const { receiver } = rig;
    const hookIds = await rig.webhooks(HOOKS, { retry: RETRY, timeoutMs: 500, faults: { error500: 0.3, timeout: 0.1, reset: 0.05 } });
    const outcome = await rig.publish({ rate: 100, maxInFlight: 8 });
    // Deliveries still retrying when the load ends meet a healthy receiver from here on.
    await receiver.call('setFaults', null);
    const expected = outcome.acked * HOOKS;
    let dead = await rig.dlq();
    let got = await waitDeliveries(receiver, expected - dead.length, 8_000);
    for (let i = 0; i < 20 && got.unique + dead.length < expected; i++) {
      dead = await rig.dlq();
      got = await waitDeliveries(receiver, expected - dead.length, 1_000);
    }
    got = await receiver.call('stats', { keys: true });

    const pathOf = new Map(hookIds.map((id, i) => [id, `/hook/${i}`]));
    const deliveredKeys = new Set(got.keys);
    const deadKeys = new Set(dead.map((d) => `${pathOf.get(d.originalWebhook.id)}|${d.event.data.metadata?.seq}`));
    const bothDeliveredAndDead = [...deadKeys].filter((k) => deliveredKeys.has(k)).length;
    const lost = expected - deliveredKeys.size - deadKeys.size + bothDeliveredAndDead;
    printAccounting(
      'receiver-failures',
      {
        published: outcome.offered,
        acknowledged: outcome.acked,
        delivered: got.unique,
        deadLettered: dead.length,
        duplicates: got.duplicates,
        lost,
      },
      {
        webhooks: HOOKS,
        expectedDeliveries: expected,
        injected: got.injected,
        requests: got.requests,
        webhookIdMismatches: got.webhookIdMismatches,
        bothDeliveredAndDead,
      },
    );

    assert.equal(outcome.acked, outcome.offered, 'every publish acknowledged');
    assert.ok(got.injected.error500 > 0 && got.injected.timeout > 0 && got.injected.reset > 0, 'all three faults happened');
    assert.equal(lost, 0, 'every delivery is delivered or dead-lettered');
    assert.equal(dead.length, deadKeys.size, 'one DLQ entry per dead delivery');
    assert.equal(bothDeliveredAndDead, 0, 'no delivery both delivered and dead-lettered');
    for (const d of dead) {
      assert.equal(d.attempts.length, RETRY.maxAttempts, `DLQ entry ${d.id} keeps all its attempts`);
      assert.ok(d.failureReason.length > 0);
    }
    assert.equal(got.webhookIdMismatches, 0, 'a repeated delivery carries the same webhook-id');
    assert.equal(got.badSignatures, 0, 'every request is signed with the webhook secret');
  });
});
