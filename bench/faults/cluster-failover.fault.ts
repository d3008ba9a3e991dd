import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { HistoryEvent } from '../lib/accounting.js';
import { scheduledMsOf } from '../lib/events.js';
import { clusterToolsAvailable } from '../../test/support/redis.js';
import { nowMs, sleep } from '../../test/support/time.js';
import { accountHistoryAndDeliveries, assertNothingLost, faultSeconds, seqOf, startRig, type FaultRig } from './support.js';

const HOOKS = 2;
const skip = clusterToolsAvailable() ? false : 'redis-server and redis-cli are not both installed: the cluster fault needs them';

describe('fault: the Redis Cluster master holding the event log is SIGKILLed (REDIS_MIN_REPLICAS_ACK=1)', { skip }, () => {
  let rig: FaultRig;
  before(async () => {
    rig = await startRig({
      roles: ['api', 'worker'],
      cluster: true,
      // WAIT for one replica before 202; a stalled delivery job comes back quickly after the failover.
      env: { REDIS_MIN_REPLICAS_ACK: '1', REDIS_WAIT_TIMEOUT_MS: '1000', WEBHOOK_STALL_MS: '2000' },
    });
  });
  after(() => rig?.stop());

  test('the replica takes over; every acknowledged (202) event is in the history and reached every webhook', async () => {
    const { stack } = rig;
    const cluster = stack.cluster!;
    await rig.webhooks(HOOKS);
    const slot = cluster.slotOf(stack.keys.eventLog());
    const master = await cluster.masterOf(slot);
    const seconds = Math.max(faultSeconds(), 16);
    const publishing = rig.publish({ rate: 300, maxInFlight: 16, seconds });
    await sleep((seconds * 1000) / 3);
    const killedAt = nowMs();
    await cluster.kill(master);
    await cluster.waitHealthy(60_000, slot);
    const promotedAt = nowMs();
    const newMaster = await cluster.masterOf(slot);
    // With one replica per master the promoted one has none: WAIT 1 fails (503) until the old master rejoins as its
    // replica. Restart it and wait for the link; publishes are acknowledged again from then on.
    await cluster.restart(master);
    const deadline = nowMs() + 30_000;
    while (!cluster.replicasOf(newMaster).includes(master) && nowMs() < deadline) await sleep(100);
    const rejoinedAt = nowMs();
    const outcome = await publishing;
    const ackedAfterRejoin = (history: HistoryEvent[], acked: Set<string>) =>
      history.filter((e) => acked.has(e.id) && (scheduledMsOf(e.data) ?? 0) > rejoinedAt).length;
    const a = await accountHistoryAndDeliveries(rig, outcome, {
      fault: 'cluster-failover',
      hooks: HOOKS,
      stallMs: 90_000,
      extra: ({ history, acked, undelivered }) => {
        const publishedAfterKill = (seq: number) =>
          Math.round((scheduledMsOf(history.find((e) => seqOf(e) === seq)!.data) ?? 0) - killedAt);
        const undeliveredMs = undelivered.map((k) => publishedAfterKill(Number(k.split('|')[1])));
        return {
          killedMaster: master,
          newMaster,
          failoverMs: Math.round(promotedAt - killedAt),
          replicaBackMs: Math.round(rejoinedAt - promotedAt),
          undeliveredPublishedMsAfterKill: undeliveredMs.length ? [Math.min(...undeliveredMs), Math.max(...undeliveredMs)] : [],
          ackedAfterRejoin: ackedAfterRejoin(history, acked),
        };
      },
    });

    assert.notEqual(newMaster, master, 'a replica was promoted');
    assert.ok(outcome.acked > 0, 'publishes were acknowledged');
    // every connection follows the slot to the new master (a stale slot map once kept publishes at 503 for good)
    assert.ok(ackedAfterRejoin(a.history, a.acked) > 0, 'publishes are acknowledged again once the old master rejoined');
    assertNothingLost(a, outcome);
  });
});
