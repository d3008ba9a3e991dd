import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { FanoutProgress } from '../../src/delivery/fanout-progress.js';
import { RedisKeys } from '../../src/redis/keys.js';
import {
  SCRIPTS,
  appendEvents,
  endpointAdmit,
  finishFanout,
  quotaAdmit,
  releaseLock,
  scriptSource,
  type ScriptName,
} from '../../src/redis/scripts.js';
import { startPrivateRedis, type PrivateRedis } from '../support/redis.js';

/** Where the app reads its scripts at run time (copied there by `npm run build`), and where they are written. */
const DIST_SCRIPTS = new URL('../../src/redis/scripts/', import.meta.url);
const SRC_SCRIPTS = new URL('../../../src/redis/scripts/', import.meta.url);
const luaFiles = (dir: URL) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.lua'))
    .sort();
const names = Object.keys(SCRIPTS) as ScriptName[];

/** The hash tag of a key (the first `{…}`, non-empty), or the key itself. */
const hashTagOf = (key: string) => /\{([^}]+)\}/.exec(key)?.[1] ?? key;

describe('Redis scripts: files', () => {
  test('every .lua file is registered, shipped to dist and identical to its source', () => {
    assert.deepEqual(luaFiles(SRC_SCRIPTS), names.map((n) => SCRIPTS[n].file).sort());
    assert.deepEqual(luaFiles(DIST_SCRIPTS), luaFiles(SRC_SCRIPTS));
    for (const f of luaFiles(SRC_SCRIPTS))
      assert.equal(readFileSync(new URL(f, DIST_SCRIPTS), 'utf8'), readFileSync(new URL(f, SRC_SCRIPTS), 'utf8'), f);
  });

  for (const name of names) {
    test(`${SCRIPTS[name].file}: a header names every KEYS[i] and ARGV[i] the body uses; no key comes from ARGV`, () => {
      const src = scriptSource(name);
      const m = /^--\[\[\n([\s\S]*?)\n\]\]\n([\s\S]+)$/.exec(src);
      assert.ok(m, 'starts with a --[[ … ]] header');
      const [, header, body] = m;
      assert.match(header, /^\s+Input:$/m);
      assert.match(header, /^\s+Output:/m);
      assert.match(header, /^\s+KEYS\[1\]\s+\S/m, 'describes KEYS[1]');
      assert.match(header, /^\s+ARGV\[1\]\s+\S/m, 'describes ARGV[1]');
      for (const [ref] of body.matchAll(/\b(KEYS|ARGV)\[\d+\]/g)) assert.ok(header.includes(ref), `${ref} is named in the header`);
      assert.doesNotMatch(body, /redis\.call\('\w+',\s*ARGV/, 'the key of a call is never an ARGV');
      const fixedKeys = SCRIPTS[name].numberOfKeys;
      if (fixedKeys !== undefined) assert.match(header, new RegExp(`^\\s+KEYS\\[${fixedKeys}\\]\\s`, 'm'), `names all ${fixedKeys} keys`);
    });
  }
});

describe('Redis scripts: against a private Redis', () => {
  let redis: PrivateRedis;
  let client: Redis;
  let monitorOwner: Redis;
  let monitor: Redis;
  /** Every command Redis executed since the last reset: [source ('lua' inside a script), ...args]. */
  let seen: { source: string; args: string[] }[] = [];
  const keys = new RedisKeys('scripts-test');

  before(async () => {
    redis = await startPrivateRedis();
    client = new Redis(redis.url);
    monitorOwner = new Redis(redis.url);
    monitor = await monitorOwner.monitor(); // a connection of its own
    monitor.on('monitor', (_time: string, args: string[], source: string) => seen.push({ source, args }));
  });
  after(async () => {
    monitor.disconnect();
    monitorOwner.disconnect();
    client.disconnect();
    await redis.destroy();
  });

  /** Waits until MONITOR has reported everything sent before, then returns it. */
  async function monitored(): Promise<{ source: string; args: string[] }[]> {
    const marker = `marker-${Math.random()}`;
    await client.echo(marker);
    const deadline = Date.now() + 5000;
    while (!seen.some((c) => c.args[1] === marker)) {
      if (Date.now() > deadline) throw new Error('MONITOR did not report the marker');
      await new Promise((r) => setTimeout(r, 10));
    }
    const out = seen.filter((c) => c.args[1] !== marker);
    seen = [];
    return out;
  }

  test('append: idempotency records are passed in KEYS (numberOfKeys per call), and every key it touches is declared', async () => {
    await monitored();
    const stream = keys.eventLog();
    const idemA = keys.idempotency('org_1', 'key-a');
    const idemB = keys.idempotency('org_1', 'key-b');
    const entry = (i: number, idempotencyKey?: string) => ({
      idempotencyKey,
      organizationId: 'org_1',
      type: 'message.sent',
      timestamp: `2025-01-01T00:00:0${i}Z`,
      dataJson: JSON.stringify({ i }),
    });
    const first = await appendEvents(client, stream, 60, [entry(1, idemA), entry(2), entry(3, idemB), entry(4, idemA)]);
    assert.deepEqual(
      first.map((r) => r[0]),
      ['0', '0', '0', '1'],
      'the 4th repeats key-a within the batch: a duplicate',
    );
    assert.equal(first[3].slice(1), `${first[0].slice(1)}\norg_1\nmessage.sent\n2025-01-01T00:00:01Z\n{"i":1}`);

    const calls = await monitored();
    const evals = calls.filter((c) => /^eval(sha)?$/i.test(c.args[0]));
    assert.ok(evals.length >= 1);
    for (const { args } of evals) {
      const numberOfKeys = Number(args[2]);
      assert.equal(numberOfKeys, 4, 'stream + one key per entry that has one');
      assert.deepEqual(args.slice(3, 3 + numberOfKeys), [stream, idemA, idemB, idemA]);
      const argv = args.slice(3 + numberOfKeys);
      assert.ok(!argv.some((a) => a.includes(':idem:')), 'no key travels in ARGV');
    }
    const declared = new Set(evals[0].args.slice(3, 3 + Number(evals[0].args[2])));
    const inScript = calls.filter((c) => c.source === 'lua');
    assert.deepEqual([...new Set(inScript.map((c) => c.args[0].toLowerCase()))].sort(), ['get', 'set', 'xadd']);
    for (const { args } of inScript) assert.ok(declared.has(args[1]), `${args.join(' ')} touches a declared key`);
    assert.equal(new Set([...declared].map(hashTagOf)).size, 1, 'one hash tag: one Cluster slot');

    const again = await appendEvents(client, stream, 60, [entry(5, idemB), entry(6)]);
    assert.deepEqual(
      again.map((r) => r[0]),
      ['1', '0'],
    );
    assert.equal(again[0].slice(1).split('\n')[0], first[2].slice(1));
    assert.equal(await client.xlen(stream), 4);
    const ttl = await client.ttl(idemA);
    assert.ok(ttl > 0 && ttl <= 60);
    await monitored();
  });

  test('quota admit: six declared keys with one hash tag, counts and refuses', async () => {
    const flags = (metric: string, limit: number) => ({
      warning: keys.quotaFlag('org_1', metric, 'w', limit, 'warning'),
      exceeded: keys.quotaFlag('org_1', metric, 'w', limit, 'exceeded'),
    });
    const qKeys = {
      counters: [keys.quotaCounter('org_1', 'events_per_minute', 'w'), keys.quotaCounter('org_1', 'events_per_month', 'w')],
      flags: [flags('events_per_minute', 5), flags('events_per_month', 0)],
    } as const;
    const expireAt = Math.floor(Date.now() / 1000) + 600;
    const args = (count: number) => ({ count, limits: [5, 0], expireAt: [expireAt, expireAt] }) as const;
    await monitored();
    assert.deepEqual(await quotaAdmit(client, qKeys, args(4)), [0, 4, 0, 'w1']);
    assert.deepEqual(await quotaAdmit(client, qKeys, args(2)), [1, 4, 0, 'x1']);
    assert.deepEqual(await quotaAdmit(client, qKeys, args(1)), [0, 5, 0]);
    const calls = await monitored();
    const declared = new Set([...qKeys.counters, ...qKeys.flags.flatMap((f) => [f.warning, f.exceeded])]);
    assert.equal(new Set([...declared].map(hashTagOf)).size, 1);
    for (const { args: a } of calls.filter((c) => c.source === 'lua'))
      assert.ok(declared.has(a[1]), `${a.join(' ')} touches a declared key`);
  });

  test('endpoint admit: a delivery sent without its metadata is never held without it (needsMeta, nothing changed)', async () => {
    const tag = keys.deploymentTag;
    const endpoint = {
      health: keys.webhookHealth('wh_a', tag),
      backlog: keys.webhookBacklog('wh_a', tag),
      backlogData: keys.webhookBacklogData('wh_a', tag),
      drain: keys.webhookDrain('wh_a', tag),
      rate: keys.webhookRate('wh_a', tag),
      sequence: keys.webhookSequence('wh_a', tag),
    };
    const item = (n: number, held?: { meta: string; event: number }) => ({
      endpoint,
      member: `evt_${n}|dlv_${n}`,
      score: 1000 + n,
      held,
      ordered: false,
      perSecond: 0,
      orderingKey: '',
    });
    const event = '{"id":"evt_1"}';
    assert.deepEqual(
      await endpointAdmit(client, 60_000, [], [item(1), item(2)]),
      [
        { held: false, needsMeta: false, startDrain: false, sequence: 0 },
        { held: false, needsMeta: false, startDrain: false, sequence: 0 },
      ],
      'a healthy endpoint: both go now',
    );
    await client.hset(endpoint.health, 'open', String(Date.now()));
    const before = await client.keys('*wh_a*');
    assert.deepEqual(
      await endpointAdmit(client, 60_000, [], [item(3), item(4)]),
      [
        { held: false, needsMeta: true, startDrain: false, sequence: 0 },
        { held: false, needsMeta: true, startDrain: false, sequence: 0 },
      ],
      'circuit open: both would be held, neither is',
    );
    assert.deepEqual((await client.keys('*wh_a*')).sort(), before.sort(), 'no key written');
    const again = await endpointAdmit(
      client,
      60_000,
      [event],
      [item(3, { meta: '{"m":3}', event: 0 }), item(4, { meta: '{"m":4}', event: 0 })],
    );
    assert.deepEqual(
      again.map((r) => [r.held, r.needsMeta]),
      [
        [true, false],
        [true, false],
      ],
    );
    assert.deepEqual(await client.zrange(endpoint.backlog, 0, -1), ['evt_3|dlv_3', 'evt_4|dlv_4']);
    assert.equal(await client.hget(endpoint.backlogData, 'evt_3|dlv_3'), `{"m":3}\n${event}`);
    assert.deepEqual(
      (await endpointAdmit(client, 60_000, [], [item(3)])).map((r) => [r.held, r.needsMeta]),
      [[true, false]],
      'already stored: held again without its metadata (idempotent)',
    );
  });

  test('fan-out finish: the deliveries come off the fair-share counter once per job, however many runs finish it', async () => {
    const tag = keys.deploymentTag;
    const done = keys.fanoutDone('fanout-org_f-1', tag);
    const counter = keys.orgFanouts('org_f', tag);
    await client.set(counter, '100');
    await client.hset(done, 'dlv_1', '1');
    assert.equal(await finishFanout(client, { done, counter }, 64, 60_000), true);
    assert.equal(await client.get(counter), '36');
    assert.equal(await finishFanout(client, { done, counter }, 64, 60_000), false, 'a re-run that finishes again');
    assert.equal(await client.get(counter), '36');
    const ttl = await client.pttl(done);
    assert.ok(ttl > 0 && ttl <= 60_000, `the done hash expires (${ttl} ms)`);
    assert.equal(await client.hget(done, 'dlv_1'), '1', 'the settled deliveries stay');
    const rerun = await FanoutProgress.open(client, done, true);
    assert.deepEqual(
      [rerun.skipped, rerun.done('dlv_1'), rerun.done('#counted')],
      [1, true, false],
      "a re-run skips deliveries, not the job's mark",
    );
  });

  test('release lock: only with the holder token', async () => {
    const lock = keys.webhookBatchLock('wh_1', keys.deploymentTag);
    await client.set(lock, 'mine', 'PX', 10_000);
    assert.equal(await releaseLock(client, lock, 'theirs'), false);
    assert.equal(await client.get(lock), 'mine');
    assert.equal(await releaseLock(client, lock, 'mine'), true);
    assert.equal(await client.exists(lock), 0);
  });
});

describe('RedisKeys', () => {
  test('key names are unchanged and every key carries the deployment hash tag', () => {
    const k = new RedisKeys('humana');
    assert.equal(k.eventLog(), '{humana}:events');
    assert.equal(k.idempotency('org_1', 'abc'), '{humana}:idem:org_1:abc');
    assert.equal(k.quotaCounter('org_1', 'events_per_minute', '29412345'), '{humana}:quota:org_1:events_per_minute:29412345');
    assert.equal(
      k.quotaFlag('org_1', 'events_per_month', '2025-03', 100, 'warning'),
      '{humana}:quota-flag:org_1:events_per_month:2025-03:100:warning',
    );
    assert.equal(k.bullPrefix(), '{humana}:bull');
    assert.equal(k.webhookBatch('wh_1', k.deploymentTag), '{humana}:webhooks:batch:wh_1');
    assert.equal(k.webhookBatchLock('wh_1', k.deploymentTag), '{humana}:webhooks:batch-lock:wh_1');
    assert.equal(k.webhookPending('wh_1', k.deploymentTag), '{humana}:webhooks:pending:wh_1');
    assert.equal(k.workerHeartbeats(), '{humana}:webhooks:workers');
    assert.equal(k.laneHeartbeats('overflow'), '{humana}:webhooks:workers:overflow');
    assert.equal(k.webhooksChangedChannel(), '{humana}:webhooks:changed');
    assert.equal(k.webhooksVersion(), '{humana}:webhooks:version');
    assert.equal(k.limitsChangedChannel(), '{humana}:limits-changed');
    assert.equal(k.performanceDegraded('org_1', 'delivery_latency_p95_ms'), '{humana}:perf-degraded:org_1:delivery_latency_p95_ms');
    assert.equal(k.realtimeInstances(), '{humana}:rt:instances');
    assert.equal(k.realtimeConnections('i1'), '{humana}:rt:conns:i1');
    assert.equal(k.socketIo(), '{humana}:socket.io');
    assert.equal(k.socketIoSession('p1'), '{humana}:socket.io:session:p1');
  });

  test('keys used together in one script take the tag as a parameter (partitioning)', () => {
    const k = new RedisKeys('humana');
    const tag = k.tag('p7');
    assert.equal(tag, '{humana:p7}');
    assert.equal(k.eventLog(tag), '{humana:p7}:events');
    assert.equal(k.idempotency('org_1', 'abc', tag), '{humana:p7}:idem:org_1:abc');
    assert.equal(hashTagOf(k.quotaCounter('o', 'm', 'w', tag)), hashTagOf(k.quotaFlag('o', 'm', 'w', 1, 'exceeded', tag)));
    assert.throws(() => new RedisKeys('bad{prefix}'));
  });
});
