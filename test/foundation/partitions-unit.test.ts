import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/config.js';
import { eventIdBound, eventIdFromStreamId, isEventId, logPositionOf, streamIdFromEventId } from '../../src/common/ids.js';
import { partitionCountCheck, partitionOf } from '../../src/events/partitions.js';
import { RedisKeys } from '../../src/redis/keys.js';

test('partitionOf: one partition is always 0; otherwise a stable FNV-1a of the id, in range, spread', () => {
  assert.equal(partitionOf('org_anything', 1), 0);
  // pinned values: the partition is part of every event id, so the function may never change
  assert.equal(partitionOf('', 16), 0x811c9dc5 % 16);
  assert.equal(partitionOf('a', 1_000_000), 0xe40c292c % 1_000_000);
  assert.equal(partitionOf('org_01HX', 16), partitionOf('org_01HX', 16));
  assert.equal(partitionOf('é', 256), partitionOf('é', 256), 'UTF-8 bytes, deterministic');
  const counts = new Array<number>(16).fill(0);
  for (let i = 0; i < 1600; i++) counts[partitionOf(`org_${i}`, 16)]++;
  for (const c of counts) assert.ok(c > 50 && c < 150, `partitions are spread: ${counts.join(',')}`);
  for (let i = 0; i < 100; i++) {
    const p = partitionOf(`org_${i}`, 7);
    assert.ok(Number.isInteger(p) && p >= 0 && p < 7);
  }
});

test('event ids: partition 0 keeps the unpartitioned format, others add two digits; both map back', () => {
  const old = eventIdFromStreamId('1700000000000-10');
  assert.equal(old, eventIdFromStreamId('1700000000000-10', 0));
  assert.match(old, /^evt_[0-9A-Z]{17}$/);
  assert.deepEqual(logPositionOf(old), { partition: 0, streamId: '1700000000000-10' });
  for (const partition of [1, 5, 15, 255, 1023]) {
    const id = eventIdFromStreamId('1700000000000-10', partition);
    assert.match(id, /^evt_[0-9A-Z]{19}$/);
    assert.ok(id.startsWith(old));
    assert.ok(isEventId(id));
    assert.deepEqual(logPositionOf(id), { partition, streamId: '1700000000000-10' });
    assert.equal(streamIdFromEventId(id), '1700000000000-10');
  }
  assert.equal(logPositionOf(`${old}00`), null, 'partition 0 has one spelling only');
  assert.equal(logPositionOf(`${old}0`), null);
  assert.equal(logPositionOf('evt_nope'), null);
  assert.throws(() => eventIdFromStreamId('1-0', 1024));
  assert.throws(() => eventIdFromStreamId('1-0', -1));
});

test('event ids sort by time across partitions (then sequence, then partition), inside the time bounds', () => {
  const positions: [string, number][] = [
    ['1700000000000-0', 0],
    ['1700000000000-0', 3],
    ['1700000000000-1', 0],
    ['1700000000000-1', 12],
    ['1700000000000-10', 1],
    ['1700000000001-0', 0],
    ['1700000000001-0', 255],
    ['1800000000000-3', 7],
  ];
  const ids = positions.map(([sid, p]) => eventIdFromStreamId(sid, p));
  assert.deepEqual([...ids].sort(), ids);
  assert.ok(eventIdBound(1700000000000, 'low') <= ids[0]);
  assert.ok(eventIdBound(1700000000000, 'high') >= ids[4]);
  assert.ok(eventIdBound(1700000000000, 'high') < ids[5]);
  assert.ok(eventIdBound(1700000000001, 'high') >= ids[6]);
});

test('partition keys: one partition keeps the unpartitioned names; more use one hash tag per partition', () => {
  const k = new RedisKeys('humana');
  assert.equal(k.eventLog(k.eventLogTag(0, 1)), '{humana}:events');
  assert.equal(k.idempotency('org', 'x', k.eventLogTag(0, 1)), '{humana}:idem:org:x');
  assert.equal(k.eventLog(k.eventLogTag(0, 16)), '{humana:p0}:events');
  assert.equal(k.eventLog(k.eventLogTag(15, 16)), '{humana:p15}:events');
  assert.equal(k.idempotency('org', 'x', k.eventLogTag(3, 4)), '{humana:p3}:idem:org:x');
  assert.equal(k.eventLogPartitions(), '{humana}:events:partitions');
});

test('partition count at start: recorded on first start, kept when equal, refused when different unless forced', () => {
  assert.deepEqual(partitionCountCheck(null, 4, false), { action: 'record' });
  assert.deepEqual(partitionCountCheck(4, 4, false), { action: 'keep' });
  const refused = partitionCountCheck(1, 16, false);
  assert.equal(refused.action, 'refuse');
  assert.match((refused as { message: string }).message, /EVENT_LOG_PARTITIONS=16.*1 partition.*EVENT_LOG_PARTITIONS_FORCE=true/);
  assert.doesNotMatch((refused as { message: string }).message, /\n/);
  assert.equal(partitionCountCheck(1, 16, true).action, 'override');
});

test('config: EVENT_LOG_PARTITIONS defaults to 1, at most 256; EVENT_LOG_PARTITIONS_FORCE defaults to false', () => {
  assert.deepEqual(loadConfig({}).eventLogPartitions, { count: 1, force: false });
  assert.deepEqual(loadConfig({ EVENT_LOG_PARTITIONS: '16', EVENT_LOG_PARTITIONS_FORCE: 'true' }).eventLogPartitions, {
    count: 16,
    force: true,
  });
  assert.throws(() => loadConfig({ EVENT_LOG_PARTITIONS: '257' }), /EVENT_LOG_PARTITIONS/);
  assert.throws(() => loadConfig({ EVENT_LOG_PARTITIONS: '0' }), /EVENT_LOG_PARTITIONS/);
});
