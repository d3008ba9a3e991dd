import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { backoffFor, RetryLater } from '../../workers/delivery.processor.js';
import { classifyStatus, parseRetryAfter, retryAfterWait, retryDelayMs } from '../../src/delivery/retry-policy.js';
import { deliveryIdFor } from '../../src/delivery/queues.js';
import { generateSecret, sign, signingKey } from '../../src/webhooks/signing.js';
import { isForbiddenAddress } from '../../src/destinations/url-guard.js';
import { isEventPattern, isReservedHeader } from '../../src/webhooks/webhook.schemas.js';
import { seedVerifyWebhook } from '../support/seed-verify.js';
import { checkTransform, TransformError } from '../../src/webhooks/transform.js';
import { createTransformEngine } from '../../src/webhooks/transform-engine.js';

test('retry schedule: attempt n waits min(multiplier^(n-1), maxDelay) s; attempt 1 is immediate', () => {
  const policy = { maxAttempts: 10, backoffMultiplier: 2, maxDelay: 300 };
  assert.deepEqual(
    [1, 2, 3, 4, 5].map((n) => retryDelayMs(n, policy)),
    [0, 2000, 4000, 8000, 16000],
  );
  assert.equal(retryDelayMs(10, policy), 300_000, 'capped at maxDelay');
  assert.equal(retryDelayMs(3, { maxAttempts: 3, backoffMultiplier: 1.5, maxDelay: 300 }), 2250);
  assert.equal(retryDelayMs(4, { maxAttempts: 5, backoffMultiplier: 10, maxDelay: 60 }), 60_000);
});

test('backoff strategy of retry jobs: numbering continues from the fan-out attempt; Retry-After wins', () => {
  const data = { firstAttempt: 2, retry: { maxAttempts: 5, backoffMultiplier: 2, maxDelay: 300 } };
  // The retry job's first run (attempt 2) failed: BullMQ passes attemptsMade = 1, the next attempt is 3 → 4 s.
  assert.equal(backoffFor(1, new Error('x'), data), 4000);
  assert.equal(backoffFor(2, new Error('x'), data), 8000);
  assert.equal(backoffFor(1, new RetryLater('429', 1000), data), 1000);
  assert.equal(backoffFor(1, new RetryLater('500', undefined), { ...data, firstAttempt: 1 }), 2000);
});

test('Retry-After: seconds or HTTP date, only on 429/503, capped at maxDelay', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('7', now), 7000);
  assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now), 30_000);
  assert.equal(parseRetryAfter('garbage', now), undefined);
  const policy = { maxAttempts: 3, backoffMultiplier: 2, maxDelay: 10 };
  assert.equal(retryAfterWait(429, '5', policy), 5000);
  assert.equal(retryAfterWait(503, '3600', policy), 10_000);
  assert.equal(retryAfterWait(500, '5', policy), undefined);
});

test('status classification follows the seed', () => {
  for (const s of [200, 201, 202, 204, 299]) assert.equal(classifyStatus(s), 'success');
  for (const s of [408, 429, 500, 502, 503, 504]) assert.equal(classifyStatus(s), 'retryable');
  for (const s of [400, 401, 403, 404, 410, 422, 501, 505]) assert.equal(classifyStatus(s), 'fatal');
});

test('signatures: the seed verifyWebhook and the standardwebhooks package both verify; rotation sends both', () => {
  const secret = generateSecret();
  assert.match(secret, /^whsec_[A-Za-z0-9+/]{32}$/);
  const body = JSON.stringify({ id: 'evt_1', data: { ü: 'x' } });
  const ts = Math.floor(Date.now() / 1000);
  const sig = sign([signingKey(secret)], 'evt_1', ts, body);
  assert.ok(seedVerifyWebhook(body, sig.humana, secret, String(ts)));
  const headers = { 'webhook-id': 'evt_1', 'webhook-timestamp': String(ts), 'webhook-signature': sig.standard };
  assert.deepEqual(new StandardWebhook(secret).verify(body, headers), JSON.parse(body));
  assert.throws(() => new StandardWebhook(generateSecret()).verify(body, headers));
  const old = generateSecret();
  const both = sign([signingKey(secret), signingKey(old)], 'evt_1', ts, body);
  assert.equal(both.standard.split(' ').length, 2);
  const rotated = { ...headers, 'webhook-signature': both.standard };
  new StandardWebhook(secret).verify(body, rotated);
  new StandardWebhook(old).verify(body, rotated);
  // A secret without the whsec_ prefix is used as UTF-8 bytes by both schemes.
  const plain = 'my-plain-secret-0123456789';
  const s2 = sign([signingKey(plain)], 'evt_1', ts, body);
  assert.ok(seedVerifyWebhook(body, s2.humana, plain, String(ts)));
  new StandardWebhook(Buffer.from(plain).toString('base64')).verify(body, { ...headers, 'webhook-signature': s2.standard });
});

test('SSRF rule: only public unicast addresses', () => {
  const refused = [
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    '::',
    'fe80::1',
    'fc00::1',
    'fd12::1',
    '::ffff:127.0.0.1',
    '::ffff:169.254.169.254',
    '224.0.0.1',
    '255.255.255.255',
    'not-an-ip',
  ];
  for (const a of refused) assert.ok(isForbiddenAddress(a), `${a} must be refused`);
  for (const a of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111']) assert.ok(!isForbiddenAddress(a), `${a} is public`);
});

test('event patterns, reserved headers, deterministic delivery ids', () => {
  for (const p of ['*', 'message.*', 'message.sent', 'quota.*']) assert.ok(isEventPattern(p), p);
  for (const p of ['message', 'nope.*', 'message.nope', '*.sent', '']) assert.ok(!isEventPattern(p), p);
  for (const h of [
    'Content-Type',
    'content-length',
    'HOST',
    'X-Humana-Signature',
    'x-humana-anything',
    'webhook-id',
    'Webhook-Signature',
    'Transfer-Encoding',
  ])
    assert.ok(isReservedHeader(h), h);
  assert.ok(!isReservedHeader('X-Custom-Header'));
  const a = deliveryIdFor('evt_01M8JRPQQV0000000', 'wh_1');
  assert.equal(a, deliveryIdFor('evt_01M8JRPQQV0000000', 'wh_1'));
  assert.notEqual(a, deliveryIdFor('evt_01M8JRPQQV0000000', 'wh_2'));
  assert.match(a, /^del_01M8JRPQQV[0-9A-F]{20}$/);
});

test('transforms: JSONata over the envelope, bounded in time', async () => {
  const env = { id: 'evt_1', type: 'message.received', data: { sessionId: 's1', response: 'hi', companionId: 'c1' } };
  const engine = await createTransformEngine({ timeoutMs: 100, maxBytes: 1024 * 1024, cacheSize: 10 });
  const out = await engine.evaluate('{"chatId": data.sessionId, "message": data.response, "sender": data.companionId}', env);
  assert.deepEqual(JSON.parse(out), {
    chatId: 's1',
    message: 'hi',
    sender: 'c1',
  });
  assert.throws(() => checkTransform('{"a": '), TransformError);
  assert.throws(() => checkTransform('$match(data.s, /(a)\\1/)'), /not supported/);
  assert.throws(() => checkTransform('$replace(data.s, /a(?=b)/, "")'), TransformError);
  await assert.rejects(engine.evaluate('$pad("x", 2000000, "ab")', env), /\$pad would build a string of 2000000 characters/);
  await assert.rejects(engine.evaluate('$join([$pad("x", 600000), $pad("y", 600000)])', env), /\$join would build/);
  const started = Date.now();
  await assert.rejects(engine.evaluate('( $f := function($n){ $n = 0 ? 0 : $f($n - 1) + $f($n - 1) }; $f(40) )', env), TransformError);
  assert.ok(Date.now() - started < 2000, 'stopped by the guardrails');
});
