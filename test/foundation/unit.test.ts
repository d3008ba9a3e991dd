import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { eventIdBound, eventIdFromStreamId, isEventId, streamIdFromEventId } from '../../src/common/ids.js';
import { credentialFrom, adminCredentialFrom } from '../../src/auth/credentials.js';

test('config: defaults follow the contract', () => {
  const c = loadConfig({});
  assert.equal(c.port, 3000);
  assert.equal(c.role, 'all');
  assert.equal(c.databaseUrl, 'sqlite:.data/humana-events.sqlite');
  assert.equal(c.heartbeatIntervalMs, 30000);
  assert.equal(c.dlqRetentionDays, 30);
  assert.equal(c.eventRetentionDays, 7);
  assert.equal(c.allowPrivateWebhookUrls, true);
  const production = { NODE_ENV: 'production', SECRETS_KEY: 'a'.repeat(64) };
  assert.equal(loadConfig(production).allowPrivateWebhookUrls, false);
  assert.equal(loadConfig({ ...production, ALLOW_PRIVATE_WEBHOOK_URLS: 'true' }).allowPrivateWebhookUrls, true);
});

test('config: delivery lanes; an overflow-lane worker lowers its CPU priority unless PROCESS_NICE says otherwise', () => {
  assert.deepEqual([loadConfig({}).workerLane, loadConfig({}).processNice], ['all', 0]);
  assert.equal(loadConfig({ ROLE: 'worker', WORKER_LANE: 'overflow' }).processNice, 10);
  assert.equal(loadConfig({ ROLE: 'worker', WORKER_LANE: 'main' }).processNice, 0);
  assert.equal(loadConfig({ ROLE: 'worker', WORKER_LANE: 'overflow', PROCESS_NICE: '0' }).processNice, 0);
  assert.equal(loadConfig({ ROLE: 'api', PROCESS_NICE: '5' }).processNice, 5);
  for (const bad of [{ WORKER_LANE: 'fast' }, { PROCESS_NICE: '-5' }, { PROCESS_NICE: '20' }])
    assert.throws(() => loadConfig(bad), new RegExp(Object.keys(bad)[0]));
});

test('config: a bad value stops with one line naming every bad variable', () => {
  assert.throws(
    () => loadConfig({ PORT: 'abc', ROLE: 'boss', DATABASE_URL: 'mysql://x' }),
    (err: Error) => {
      assert.ok(err instanceof ConfigError);
      assert.doesNotMatch(err.message, /\n/);
      for (const name of ['PORT', 'ROLE', 'DATABASE_URL']) assert.match(err.message, new RegExp(name));
      return true;
    },
  );
});

test('event ids encode the stream id and sort by time', () => {
  const ids = ['1700000000000-0', '1700000000000-1', '1700000000000-10', '1700000000001-0', '1800000000000-3'].map(eventIdFromStreamId);
  assert.deepEqual([...ids].sort(), ids);
  for (const id of ids) assert.ok(isEventId(id));
  assert.equal(streamIdFromEventId(ids[2]), '1700000000000-10');
  assert.equal(streamIdFromEventId('evt_nope'), null);
  assert.ok(eventIdBound(1700000000000, 'low') <= ids[0]);
  assert.ok(eventIdBound(1700000000000, 'high') >= ids[2]);
  assert.ok(eventIdBound(1700000000000, 'high') < ids[3]);
});

test('credentials: bearer header, query token only where allowed, basic password', () => {
  assert.equal(credentialFrom({ headers: { authorization: 'Bearer abc' }, url: '/' }, false), 'abc');
  assert.equal(credentialFrom({ headers: {}, url: '/x?access_token=q' }, false), null);
  assert.equal(credentialFrom({ headers: {}, url: '/x?access_token=q' }, true), 'q');
  assert.equal(adminCredentialFrom({ headers: { authorization: `Basic ${Buffer.from('admin:tok').toString('base64')}` } }), 'tok');
});
