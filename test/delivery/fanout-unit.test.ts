import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachLimit } from '../../src/common/concurrency.js';
import { chunkFanouts, deliveryIdFor, fanoutJobId, fanoutSize, type FanoutItem } from '../../src/delivery/queues.js';

function item(org: string, n: number, hooks: number): FanoutItem {
  const id = `evt_01J${String(n).padStart(7, '0')}`;
  return {
    event: { id, type: 'message.sent', organizationId: org, timestamp: '2026-01-01T00:00:00.000Z', data: {} },
    targets: Array.from({ length: hooks }, (_, h) => ({
      webhookId: `wh_${h}`,
      deliveryId: deliveryIdFor(id, `wh_${h}`),
      kind: 'event' as const,
    })),
  };
}

test('chunkFanouts: one job per organization and chunk, log order kept, no delivery lost or doubled', () => {
  const items = [item('org_a', 1, 3), item('org_b', 2, 1), item('org_a', 3, 2), item('org_a', 4, 4), item('org_b', 5, 2)];
  const jobs = chunkFanouts(items, 5);
  assert.deepEqual(
    jobs.map((j) => [j.organizationId, j.items.map((i) => `${i.event.id.slice(-1)}x${i.targets.length}`)]),
    [
      ['org_a', ['1x3', '3x2']],
      ['org_a', ['4x4']],
      ['org_b', ['2x1', '5x2']],
    ],
  );
  for (const j of jobs) assert.ok(fanoutSize(j) <= 5);
  const all = (xs: FanoutItem[]) => xs.flatMap((i) => i.targets.map((t) => t.deliveryId)).sort();
  assert.deepEqual(all(jobs.flatMap((j) => j.items)), all(items));
});

test('chunkFanouts: an event with more targets than a chunk is split across jobs, in target order', () => {
  const jobs = chunkFanouts([item('org_a', 1, 2), item('org_a', 2, 7)], 4);
  assert.deepEqual(
    jobs.map((j) => j.items.map((i) => i.targets.map((t) => t.webhookId).join(','))),
    [['wh_0,wh_1', 'wh_0,wh_1'], ['wh_2,wh_3,wh_4,wh_5'], ['wh_6']],
  );
  assert.deepEqual(chunkFanouts([]), []);
});

test('fanoutJobId: the same contents give the same id; other contents another; BullMQ-safe (no colon)', () => {
  const a = chunkFanouts([item('org_a', 1, 3), item('org_a', 2, 1)]);
  const again = chunkFanouts([item('org_a', 1, 3), item('org_a', 2, 1)]);
  assert.equal(fanoutJobId(a[0]), fanoutJobId(again[0]));
  assert.match(fanoutJobId(a[0]), /^fanout-org_a-evt_01J0000001-evt_01J0000002-[0-9a-f]{16}$/);
  const fewer = chunkFanouts([item('org_a', 1, 2), item('org_a', 2, 1)]);
  assert.notEqual(fanoutJobId(a[0]), fanoutJobId(fewer[0]));
  assert.ok(!fanoutJobId(a[0]).includes(':'));
});

test('forEachLimit: every index once, in start order, never more than the limit in flight', async () => {
  const started: number[] = [];
  let inFlight = 0;
  let most = 0;
  await forEachLimit(20, 3, async (i) => {
    started.push(i);
    most = Math.max(most, ++inFlight);
    await new Promise((r) => setTimeout(r, (i * 7) % 5));
    inFlight--;
  });
  assert.deepEqual(
    started,
    Array.from({ length: 20 }, (_, i) => i),
  );
  assert.equal(most, 3);
  await forEachLimit(0, 3, () => Promise.reject(new Error('never called')));
});
