import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  type HeldDelivery,
  backlogMember,
  backlogScore,
  decodeHeld,
  encodeHeld,
  orderingKeyOf,
  pickNext,
  variantFor,
} from '../../src/delivery/engine-decision.js';
import { eventIdFromStreamId } from '../../src/common/ids.js';
import { healthOf, shouldAutoDisable } from '../../src/webhooks/endpoint-health.js';
import { patchWebhookSchema, createWebhookSchema } from '../../src/webhooks/webhook.schemas.js';

describe('delivery engine: pure decisions', () => {
  test('healthOf: disabled > circuit_open > failing > healthy; times as ISO', () => {
    const row = { enabled: true, disabledAt: null, disabledReason: null };
    assert.equal(healthOf(row).state, 'healthy');
    assert.equal(healthOf(row, { cf: '2', fail: '1000' }).state, 'failing');
    assert.equal(healthOf(row, { cf: '10', open: '5' }).state, 'circuit_open');
    const d = healthOf({ enabled: false, disabledAt: '2026-01-01T00:00:00.000Z', disabledReason: 'x' }, { cf: '3' });
    assert.deepEqual(d, {
      state: 'disabled',
      consecutiveFailures: 3,
      lastSuccessAt: null,
      lastFailureAt: null,
      disabledAt: '2026-01-01T00:00:00.000Z',
      disabledReason: 'x',
    });
    assert.equal(healthOf(row, { ok: '1000' }).lastSuccessAt, '1970-01-01T00:00:01.000Z');
  });

  test('shouldAutoDisable: failing long enough AND enough dead letters', () => {
    const opts = { afterMs: 1000, minFailures: 3 };
    assert.equal(shouldAutoDisable({ since: null, dead: 10 }, opts, 5000), false);
    assert.equal(shouldAutoDisable({ since: 4500, dead: 10 }, opts, 5000), false);
    assert.equal(shouldAutoDisable({ since: 4000, dead: 2 }, opts, 5000), false);
    assert.equal(shouldAutoDisable({ since: 4000, dead: 3 }, opts, 5000), true);
  });

  test('backlog order: score = log time, member sorts by event id', () => {
    const a = eventIdFromStreamId('1700000000000-0');
    const b = eventIdFromStreamId('1700000000000-1');
    assert.equal(backlogScore({ id: a, timestamp: '' }), 1700000000000);
    assert.ok(backlogMember(a, 'del_Z') < backlogMember(b, 'del_A'));
    assert.equal(backlogScore({ id: 'evt_test_x', timestamp: '2026-01-01T00:00:00.000Z' }), Date.parse('2026-01-01T00:00:00.000Z'));
  });

  test('held deliveries round-trip, reusing the event JSON', () => {
    const event = { id: 'evt_1', type: 'message.sent', organizationId: 'o', timestamp: 't', data: { n: 1.5, s: 'a\nb' } };
    const held = {
      deliveryId: 'del_1',
      kind: 'event',
      event,
      attempts: [],
      createdAt: 'c',
      url: 'http://x',
      orderKey: 'k',
    } as unknown as HeldDelivery;
    assert.deepEqual(decodeHeld(encodeHeld(held, JSON.stringify(event))), held);
    assert.deepEqual(decodeHeld(encodeHeld(held)), held);
  });

  test('orderingKeyOf: dotted paths, "*", missing', () => {
    assert.equal(orderingKeyOf({ key: '*' }, { a: 1 }), '*');
    assert.equal(orderingKeyOf({ key: 'companionId' }, { companionId: 'c1' }), 'c1');
    assert.equal(orderingKeyOf({ key: 'user.id' }, { user: { id: 7 } }), '7');
    assert.equal(orderingKeyOf({ key: 'user.id' }, { user: null }), '');
    assert.equal(orderingKeyOf({ key: 'x' }, {}), '');
  });

  test('pickNext: unordered takes the oldest; ordered skips keys held back by a waiting delivery', () => {
    assert.deepEqual(pickNext([], true, 0), { kind: 'empty' });
    assert.deepEqual(pickNext([{ notBefore: 999 }], false, 0), { kind: 'send', index: 0 });
    const items = [{ orderKey: 'a', notBefore: 500 }, { orderKey: 'a' }, { orderKey: 'b' }];
    assert.deepEqual(pickNext(items, true, 100), { kind: 'send', index: 2 });
    assert.deepEqual(pickNext(items, true, 600), { kind: 'send', index: 0 });
    assert.deepEqual(pickNext([{ orderKey: 'a', notBefore: 500 }, { orderKey: 'a' }], true, 100), { kind: 'wait', ms: 400 });
  });

  test('variantFor: deterministic per delivery id, split by weight', () => {
    const v = [
      { url: 'a', weight: 3 },
      { url: 'b', weight: 1 },
    ];
    assert.equal(variantFor(v, 'del_X').url, variantFor(v, 'del_X').url);
    let a = 0;
    for (let i = 0; i < 4000; i++) if (variantFor(v, `del_${i.toString(36).toUpperCase()}`).url === 'a') a++;
    assert.ok(Math.abs(a / 4000 - 0.75) < 0.04, `share of a: ${a / 4000}`);
  });

  test('options: validated with the field named, defaults filled', () => {
    const base = { url: 'https://example.com/h', events: ['*'] };
    const ok = createWebhookSchema.parse(base);
    assert.deepEqual(ok.circuitBreaker, { failureThreshold: 10, probeIntervalMs: 30000 });
    assert.deepEqual(ok.autoDisable, { afterMs: 432000000, minFailures: 10 });
    assert.equal(ok.rateLimit, null);
    for (const [body, field] of [
      [{ rateLimit: { perSecond: 0 } }, 'rateLimit'],
      [{ rateLimit: { perSecond: 10001 } }, 'rateLimit'],
      [{ ordering: { key: 'a..b' } }, 'ordering'],
      [{ circuitBreaker: { failureThreshold: 0 } }, 'circuitBreaker'],
      [{ autoDisable: { minFailures: 0 } }, 'autoDisable'],
      [{ variants: [{ url: 'ftp://x', weight: 1 }] }, 'variants'],
      [{ variants: [] }, 'variants'],
    ] as const) {
      const r = patchWebhookSchema.safeParse(body);
      assert.equal(r.success, false, JSON.stringify(body));
      assert.equal(r.error!.issues[0].path[0], field);
    }
  });
});
