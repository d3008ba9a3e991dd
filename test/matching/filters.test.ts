import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compileFilters, filterPathProblem, type WebhookFilters } from '../../src/webhooks/filters.js';
import { createWebhookSchema, patchWebhookSchema } from '../../src/webhooks/webhook.schemas.js';

const data = {
  severity: 'high',
  processingTime: 2500,
  count: 0,
  flag: true,
  nothing: null,
  metadata: { source: 'mobile', region: 'eu-west', nested: { depth: 3 } },
  items: [{ name: 'first' }],
  numericText: '3000',
};

function holds(filters: WebhookFilters): boolean {
  return compileFilters(filters)(data);
}

/** `field: message` of each issue when parsing `filters` in a create body. */
function problems(filters: unknown): string[] {
  const r = createWebhookSchema.safeParse({ url: 'https://example.com/h', events: ['*'], filters });
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('webhook filters', () => {
  test('lists: any value may match, with wildcards, on dotted paths', () => {
    assert.ok(holds({ severity: ['high', 'critical'] }));
    assert.ok(!holds({ severity: ['low'] }));
    assert.ok(holds({ 'metadata.source': ['mobile'] }), 'the dotted name of the issue matches now');
    assert.ok(holds({ 'metadata.region': ['eu-*'] }));
    assert.ok(holds({ 'metadata.nested.depth': [3] }), 'numbers in lists compare by string form');
    assert.ok(holds({ 'metadata.nested.depth': ['3'] }));
    assert.ok(holds({ flag: [true] }) && holds({ flag: ['true'] }));
    assert.ok(holds({ 'items.0.name': ['first'] }), 'array indexes are path segments');
    assert.ok(!holds({ metadata: ['*'] }), 'objects never match a list');
    assert.ok(!holds({ 'metadata.missing': ['*'] }));
    assert.ok(!holds({ nothing: ['*'] }));
    assert.ok(!holds({ 'severity.length': ['4'] }), 'no properties of strings');
    assert.ok(!holds({ toString: ['*'] }), 'inherited members are not data');
  });

  test('AND across fields', () => {
    assert.ok(holds({ severity: ['high'], 'metadata.source': ['mobile'] }));
    assert.ok(!holds({ severity: ['high'], 'metadata.source': ['web'] }));
    assert.ok(compileFilters(null)(data) && compileFilters({})(data));
  });

  test('ranges compare numbers only, and combine', () => {
    assert.ok(holds({ processingTime: { gte: 2000 } }));
    assert.ok(holds({ processingTime: { gte: 2500, lte: 2500 } }));
    assert.ok(!holds({ processingTime: { gt: 2500 } }));
    assert.ok(holds({ processingTime: { gt: 1, lt: 5000 } }));
    assert.ok(!holds({ processingTime: { lt: 2500 } }));
    assert.ok(holds({ count: { gte: 0, lt: 1 } }), 'zero is a number');
    assert.ok(!holds({ numericText: { gte: 2000 } }), 'a numeric string is not a number');
    assert.ok(!holds({ missing: { gte: 0 } }));
    assert.ok(!holds({ flag: { gte: 0 } }));
  });

  test('not and exists', () => {
    assert.ok(holds({ severity: { not: ['low', 'medium'] } }));
    assert.ok(!holds({ severity: { not: ['hi*'] } }));
    assert.ok(holds({ missing: { not: ['x'] } }), 'an absent field is none of the values');
    assert.ok(holds({ 'metadata.source': { exists: true } }));
    assert.ok(holds({ metadata: { exists: true } }));
    assert.ok(!holds({ 'metadata.missing': { exists: true } }));
    assert.ok(holds({ 'metadata.missing': { exists: false } }));
    assert.ok(holds({ nothing: { exists: false } }), 'null counts as absent');
    assert.ok(holds({ count: { exists: true } }) && holds({ flag: { exists: true } }));
  });

  test('paths: safe segments, bounded depth and length', () => {
    for (const ok of ['severity', 'metadata.source', 'a-b_c.d9', 'items.0.name', Array(8).fill('a').join('.')])
      assert.equal(filterPathProblem(ok), null, ok);
    for (const bad of [
      '',
      '.a',
      'a.',
      'a..b',
      'a b',
      'a.__proto__',
      'constructor',
      'x.prototype.y',
      Array(9).fill('a').join('.'),
      'a'.repeat(129),
      'a[0]',
    ]) {
      assert.notEqual(filterPathProblem(bad), null, bad);
    }
  });

  test('the schema accepts every documented form and keeps it as written', () => {
    const filters = {
      severity: ['high', 'critical'],
      'metadata.source': ['mobile'],
      processingTime: { gte: 2000 },
      score: { gte: 1, lt: 5 },
      'metadata.region': { not: ['us-*'] },
      userId: { exists: true },
      priority: [1, true, 'x*'],
    };
    const r = createWebhookSchema.safeParse({ url: 'https://example.com/h', events: ['*'], filters });
    assert.ok(r.success, JSON.stringify(r.error?.issues));
    assert.deepEqual(r.data.filters, filters);
    assert.ok(patchWebhookSchema.safeParse({ filters: { 'a.b': { exists: false } } }).success);
  });

  test('the schema refuses bad filters, naming the field', () => {
    const cases: [unknown, string][] = [
      [{ 'a..b': ['x'] }, 'filters.a..b: a dotted path'],
      [{ 'metadata.__proto__': ['x'] }, 'filters.metadata.__proto__: "__proto__" is not allowed'],
      [{ 'a.constructor': ['x'] }, 'filters.a.constructor: "constructor" is not allowed'],
      [{ severity: [] }, 'filters.severity: at least one value'],
      [{ severity: 'high' }, 'filters.severity: a list of values or an operator object'],
      [{ severity: null }, 'filters.severity: a list of values or an operator object'],
      [{ severity: [{}] }, 'filters.severity: a list of values or an operator object'],
      [{ 'a..b': ['x'], severity: 'high' }, 'filters.a..b: a dotted path'], // keys are checked even when a value is bad
      [{ companionId: ['*a'.repeat(17)] }, 'filters.companionId.0: at most 16 "*" wildcards'],
      [{ companionId: ['x'.repeat(257)] }, 'filters.companionId.0:'],
      [{ t: { gte: '5' } }, 'filters.t: a list of values or an operator object'],
      [{ t: {} }, 'filters.t: empty operator object'],
      [{ t: { gte: 1, not: ['x'] } }, 'filters.t: "not" and "exists" stand alone'],
      [{ t: { exists: true, lt: 3 } }, 'filters.t: "not" and "exists" stand alone'],
      [{ t: { between: [1, 2] } }, 'filters.t: '],
      [{ t: { not: [] } }, 'filters.t.not: at least one value'],
      [Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`f${i}`, ['x']])), 'filters: at most 20 filter fields'],
    ];
    for (const [filters, want] of cases) {
      const got = problems(filters);
      assert.ok(
        got.some((p) => p.startsWith(want)),
        `${JSON.stringify(filters).slice(0, 80)} → ${JSON.stringify(got)}`,
      );
    }
  });
});
