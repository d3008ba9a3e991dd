import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createOrg, startTestApp, type TestApp, type TestOrg } from '../support/launcher.js';
import { arrived, dlqOf, hookFor, publish, until } from './fixtures.js';
import { Receiver } from '../support/receiver.js';

// A generous evaluation budget: this machine is shared, and RE2 must answer on its own merits, not by a timeout.
const TIMEOUT_MS = 1000;

describe('transform sandbox: a hostile JSONata expression fails its request or delivery, never the process', { concurrency: false }, () => {
  let app: TestApp;
  let rx: Receiver;
  let org: TestOrg;
  before(async () => {
    app = await startTestApp({ env: { TRANSFORM_TIMEOUT_MS: String(TIMEOUT_MS) } });
    rx = await Receiver.start();
    org = await createOrg(app);
  });
  after(async () => {
    await app.close();
    await rx.close();
  });

  async function preview(transform: string, data: Record<string, unknown> = {}) {
    const started = Date.now();
    const res = await app.http
      .post('/api/v1/webhooks/transform/test')
      .set(org.auth)
      .send({ transform, event: { type: 'stream.chunk', data } });
    return { res, ms: Date.now() - started };
  }

  async function assertAlive(): Promise<void> {
    const ok = await preview('{"n": data.n * 2}', { n: 21 });
    assert.equal(ok.res.status, 200, JSON.stringify(ok.res.body));
    assert.deepEqual(ok.res.body.body, { n: 42 });
    const health = await app.http.get('/api/v1/events/health').set(org.auth);
    assert.equal(health.status, 200, JSON.stringify(health.body));
  }

  test('$pad to 200,000,000 characters: a clear 400 at once, and the process keeps serving', async () => {
    const { res, ms } = await preview('$pad("x", 200000000, "ab")');
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.equal(res.body.error.code, 'validation_error');
    assert.match(res.body.error.message, /\$pad would build a string of 200000000 characters, over the 1048576 limit/);
    assert.deepEqual(
      res.body.error.details.map((d: { field: string }) => d.field),
      ['transform'],
    );
    assert.ok(ms < 5000, `answered in ${ms} ms`);
    await assertAlive();
  });

  test('a catastrophic-backtracking regex runs in linear time (RE2)', async () => {
    const s = `${'a'.repeat(5000)}!`;
    const { res, ms } = await preview('{"all": $exists($match(data.s, /^(a+)+$/)), "some": $count($match(data.s, /(a+)+/))}', { s });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.body, { all: false, some: 1 });
    assert.ok(ms < 2000, `answered in ${ms} ms`);
    const tail = await preview('$replace(data.s, /a+$/, "z")', { s: 'baaa' });
    assert.equal(tail.res.body.body, 'bz');
  });

  test('regexes RE2 cannot run (backreferences, lookaround) are refused when saved or previewed', async () => {
    const refused = await preview('$match(data.s, /(a)\\1/)', { s: 'aa' });
    assert.equal(refused.res.status, 400);
    assert.match(refused.res.body.error.message, /not supported/);
    const create = await app.http
      .post('/api/v1/webhooks')
      .set(org.auth)
      .send({ url: `${rx.url}/never`, events: ['*'], transform: '$contains(data.s, /a(?=b)/)' });
    assert.equal(create.status, 400, JSON.stringify(create.body));
    assert.deepEqual(
      create.body.error.details.map((d: { field: string }) => d.field),
      ['transform'],
    );
  });

  test('huge sequences, deep recursion and work inside one built-in are stopped by the limits', async () => {
    const huge = await preview('$map([1..10000000], function($v){$v})');
    assert.equal(huge.res.status, 400);
    assert.match(huge.res.body.error.message, /maximum sequence length/);
    const deep = await preview('( $f := function($n){ 1 + $f($n + 1) }; $f(0) )');
    assert.equal(deep.res.status, 400);
    assert.match(deep.res.body.error.message, /Stack overflow/);
    // One $replace call building ~10^12 characters: nothing between JSONata steps can stop it; the thread is terminated.
    const inside = await preview('$replace($pad("", 1000000, "a"), "a", $pad("", 1000000, "b"))');
    assert.equal(inside.res.status, 400, JSON.stringify(inside.res.body));
    assert.match(inside.res.body.error.message, /took longer than 1000 ms|memory limit|Invalid string length/);
    assert.ok(inside.ms < TIMEOUT_MS + 5000, `answered in ${inside.ms} ms`);
    const big = await preview('$map([1..20], function($v){ $pad("", 100000, "x") })');
    assert.equal(big.res.status, 400);
    assert.match(big.res.body.error.message, /result is \d+ bytes, over the 1048576-byte limit/);
    await assertAlive();
  });

  test('a webhook whose transform blows up: its delivery is dead-lettered, others are delivered, the failure is flagged', async () => {
    const bad = await hookFor(
      app,
      rx.url,
      { events: ['stream.chunk'], transform: '$pad("x", $number(data.content), "ab")', retry: { maxAttempts: 5 } },
      org,
    );
    const good = await hookFor(app, rx.url, { events: ['stream.chunk'], transform: '{"content": data.content, "id": id}' }, org);
    const fresh = await app.http.get(`/api/v1/webhooks/${bad.id}`).set(org.auth).expect(200);
    assert.deepEqual(fresh.body.transformHealth, { consecutiveFailures: 0, lastError: null, lastFailureAt: null });

    const bomb = await publish(app, org, 'stream.chunk', { content: '200000000' });
    const [entry] = await until(() => dlqOf(app, bad).then((l) => (l.length ? l : null)), 15_000);
    assert.equal('id' in entry.event && entry.event.id, bomb.id);
    assert.match(entry.failureReason, /^transform failed: \$pad would build a string of 200000000 characters/);
    assert.equal(entry.attempts.length, 1, 'fatal: no retries');
    assert.equal(entry.attempts[0].errorKind, 'transform');
    const [goodBody] = await arrived(rx, good.path);
    assert.deepEqual(JSON.parse(goodBody.body), { content: '200000000', id: bomb.id });

    const health = await app.http.get(`/api/v1/webhooks/${bad.id}`).set(org.auth).expect(200);
    assert.equal(health.body.transformHealth.consecutiveFailures, 1);
    assert.match(health.body.transformHealth.lastError, /\$pad would build/);
    assert.ok(Date.now() - Date.parse(health.body.transformHealth.lastFailureAt) < 60_000);

    // The process lives on: the next events reach both webhooks, and a success resets the failure count.
    const next = await publish(app, org, 'stream.chunk', { content: '5' });
    const [ok] = await arrived(rx, bad.path);
    assert.equal(JSON.parse(ok.body), 'xabab');
    assert.equal(ok.headers['webhook-id'], next.id);
    await arrived(rx, good.path, 2);
    assert.equal(rx.at(bad.path).length, 1, 'nothing was sent for the failed transform');
    const reset = await until(async () => {
      const h = (await app.http.get(`/api/v1/webhooks/${bad.id}`).set(org.auth).expect(200)).body.transformHealth;
      return h.consecutiveFailures === 0 ? h : null;
    });
    assert.match(reset.lastError, /\$pad would build/, 'the last error stays as history');
    await assertAlive();
  });
});
