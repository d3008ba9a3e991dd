import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { duplicateCount, historyEvents, missingIds, printAccounting } from '../lib/accounting.js';
import { scheduledMsOf } from '../lib/events.js';
import { waitDeliveries } from '../lib/webhooks.js';
import { BOOTSTRAP_KEY } from '../../test/support/launcher.js';
import { nowMs, sleep } from '../../test/support/time.js';
import { faultSeconds, startRig, type FaultRig } from './support.js';

const HOOKS = 2;

describe('fault: Redis restarted mid-run (SHUTDOWN, then started on the same AOF)', () => {
  let rig: FaultRig;
  before(async () => {
    // A delivery job whose move to `active` was answered into the outage is orphaned until its lock expires and the
    // stalled-job check returns it (WEBHOOK_STALL_MS, 30 s by default): short here so the test sees it come back.
    rig = await startRig({ roles: ['api', 'worker'], env: { WEBHOOK_STALL_MS: '2000' } });
  });
  after(() => rig?.stop());

  test('publishes during the outage get 503; every acknowledged event reaches the history and every webhook', async () => {
    const { stack, receiver } = rig;
    await rig.webhooks(HOOKS);
    const seconds = faultSeconds();
    const publishing = rig.publish({ rate: 300, maxInFlight: 16 });
    await sleep((seconds * 1000) / 3);
    const downAt = nowMs();
    await stack.redis.stop();
    await sleep(Math.min(3000, (seconds * 1000) / 4));
    await stack.redis.start();
    const upAt = nowMs();
    const outcome = await publishing;
    await stack.waitBacklogZero('history', 0, 30_000);

    const history = await historyEvents(stack.apiUrls()[0], BOOTSTRAP_KEY);
    const missingFromHistory = missingIds(outcome.ids, new Set(history.map((e) => e.id)));
    const acked = new Set(outcome.ids);
    const seqOf = (e: (typeof history)[number]) => (e.data.metadata as { seq: number }).seq;
    const ackedSeqs = history.filter((e) => acked.has(e.id)).map(seqOf);
    const got = await waitDeliveries(receiver, ackedSeqs.length * HOOKS, 10_000, true);
    const delivered = new Set(got.keys);
    const undelivered = ackedSeqs
      .flatMap((seq) => Array.from({ length: HOOKS }, (_, i) => `/hook/${i}|${seq}`))
      .filter((k) => !delivered.has(k));
    const storedTwice = duplicateCount(history.map(seqOf));
    printAccounting(
      'redis-restart',
      {
        published: outcome.offered,
        acknowledged: outcome.acked,
        delivered: got.unique,
        deadLettered: 0,
        duplicates: storedTwice + got.duplicates,
        lost: missingFromHistory.length + undelivered.length,
      },
      {
        statuses: outcome.statuses,
        outageMs: Math.round(upAt - downAt),
        lastDeliveryAfterRestartMs: Math.round(got.lastOkMs - upAt),
        inHistory: history.length,
        acceptedWithoutAck: history.length - storedTwice - outcome.acked,
        webhooks: HOOKS,
        missingFromHistory: missingFromHistory.length,
        undeliveredWebhooks: undelivered.length,
        webhookIdMismatches: got.webhookIdMismatches,
      },
    );

    assert.ok(outcome.statuses['503'] > 0, `publishes during the outage answer 503: ${JSON.stringify(outcome.statuses)}`);
    for (const status of Object.keys(outcome.statuses))
      assert.ok(['202', '503'].includes(status), `only 202 or 503, got ${JSON.stringify(outcome.statuses)}`);
    assert.ok(outcome.acked > 0 && outcome.acked < outcome.offered);
    assert.deepEqual(missingFromHistory, [], 'every acknowledged event is in the history');
    assert.equal(storedTwice, 0, 'no message stored twice');
    assert.deepEqual(undelivered, [], 'every acknowledged event reached every webhook');
    assert.equal(got.webhookIdMismatches, 0);
    // Published before the outage and after the restart: the history covers both sides of it.
    const times = history.map((e) => scheduledMsOf(e.data)!);
    assert.ok(times.some((t) => t < downAt) && times.some((t) => t > upAt), 'events from before and after the outage');
  });
});
