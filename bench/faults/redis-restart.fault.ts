import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { scheduledMsOf } from '../lib/events.js';
import { nowMs, sleep } from '../../test/support/time.js';
import { accountHistoryAndDeliveries, assertNothingLost, faultSeconds, startRig, type FaultRig } from './support.js';

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
    const { stack } = rig;
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
    const a = await accountHistoryAndDeliveries(rig, outcome, {
      fault: 'redis-restart',
      hooks: HOOKS,
      stallMs: 10_000,
      extra: ({ got }) => ({ outageMs: Math.round(upAt - downAt), lastDeliveryAfterRestartMs: Math.round(got.lastOkMs - upAt) }),
    });

    assert.ok(outcome.statuses['503'] > 0, `publishes during the outage answer 503: ${JSON.stringify(outcome.statuses)}`);
    assert.ok(outcome.acked > 0 && outcome.acked < outcome.offered);
    assertNothingLost(a, outcome);
    // Published before the outage and after the restart: the history covers both sides of it.
    const times = a.history.map((e) => scheduledMsOf(e.data)!);
    assert.ok(times.some((t) => t < downAt) && times.some((t) => t > upAt), 'events from before and after the outage');
  });
});
