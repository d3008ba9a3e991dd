import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { duplicateCount, historyEvents, missingIds, printAccounting } from '../../bench/lib/accounting.js';
import { nowMs, sleep } from '../../bench/lib/clock.js';
import { scheduledMsOf } from '../../bench/lib/events.js';
import { BENCH_API_KEY } from '../../bench/lib/stack.js';
import { faultSeconds, startRig, type FaultRig } from './support.js';

describe('fault: Redis restarted mid-run (SHUTDOWN, then started on the same AOF)', () => {
  let rig: FaultRig;
  before(async () => {
    rig = await startRig({ roles: ['api', 'worker'] });
  });
  after(() => rig?.stop());

  test('publishes during the outage get 503; every acknowledged event reaches the history', async () => {
    const { stack, publisher } = rig;
    const seconds = faultSeconds();
    const rate = 500;
    const publishing = publisher.call('fixedRate', {
      urls: stack.apiUrls(),
      apiKey: BENCH_API_KEY,
      batch: 10,
      companions: ['comp-1'],
      collectIds: true,
      rate,
      seconds,
      maxInFlight: 16,
    });
    await sleep((seconds * 1000) / 3);
    const downAt = nowMs();
    await stack.shutdownRedis();
    await sleep(Math.min(3000, (seconds * 1000) / 4));
    await stack.startRedis();
    const upAt = nowMs();
    const outcome = await publishing;
    await stack.waitBacklogZero('history', 0, 30_000);

    const history = await historyEvents(stack.apiUrls()[0], BENCH_API_KEY);
    const lost = missingIds(outcome.ids, new Set(history.map((e) => e.id)));
    const seqs = history.map((e) => (e.data.metadata as { seq: number }).seq);
    const acceptedUnacknowledged = history.length - outcome.ids.length - duplicateCount(seqs);
    printAccounting(
      'redis-restart',
      {
        published: outcome.offered,
        acknowledged: outcome.acked,
        delivered: history.length,
        deadLettered: 0,
        duplicates: duplicateCount(seqs),
        lost: lost.length,
      },
      { statuses: outcome.statuses, outageMs: Math.round(upAt - downAt), acceptedWithoutAck: acceptedUnacknowledged },
    );

    assert.ok(outcome.statuses['503'] > 0, `publishes during the outage answer 503: ${JSON.stringify(outcome.statuses)}`);
    for (const status of Object.keys(outcome.statuses)) assert.ok(['202', '503'].includes(status), `only 202 or 503, got ${JSON.stringify(outcome.statuses)}`);
    assert.ok(outcome.acked > 0 && outcome.acked < outcome.offered);
    assert.deepEqual(lost, [], 'every acknowledged event is in the history');
    assert.equal(duplicateCount(seqs), 0, 'no message stored twice');
    // Published before the outage and after the restart: the history covers both sides of it.
    const times = history.map((e) => scheduledMsOf(e.data)!);
    assert.ok(times.some((t) => t < downAt) && times.some((t) => t > upAt), 'events from before and after the outage');
  });
});
