import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { EVENT_TYPES, exampleEvents } from '../../src/events/catalog.js';
import { compileFilters, type WebhookFilters } from '../../src/webhooks/filters.js';
import { createWebhookSchema } from '../../src/webhooks/webhook.schemas.js';
import {
  assertClearAnswer,
  assertHealthy,
  call,
  eventually,
  hostileValue,
  hugeString,
  jsonText,
  Obj,
  PER_INPUT_MS,
  PROTO_KEYS,
  Raw,
  RUNS,
  startSink,
  startTarget,
  type HostileTarget,
} from './support.js';

const segment = fc.constantFrom('metadata', 'source', 'companionId', 'a', '0', 'x-y', 'user_id', '', ...PROTO_KEYS, 'a b', '*');
const path = fc.oneof(
  fc.array(segment, { minLength: 1, maxLength: 10 }).map((s) => s.join('.')),
  fc.string({ maxLength: 30 }),
  fc.constant('a'.repeat(200)),
);
const filterValue = fc.oneof(
  fc.string({ unit: fc.constantFrom('a', 'b', '*', '-', '.'), maxLength: 40 }),
  fc.constant(`${'*a'.repeat(17)}`),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  hostileValue,
);
const operatorKey = fc.constantFrom('gte', 'gt', 'lte', 'lt', 'not', 'exists', 'eq', ...PROTO_KEYS);
const operators = fc
  .array(fc.tuple(operatorKey, fc.oneof(fc.double(), fc.integer(), fc.boolean(), fc.array(filterValue, { maxLength: 4 }), hostileValue)), {
    maxLength: 3,
  })
  .map((e) => new Obj(e));
const condition = fc.oneof(fc.array(filterValue, { maxLength: 5 }), operators, hostileValue);
/** Plausible and implausible filters: dotted paths with prototype segments, operator objects of every shape. */
const filters = fc.oneof(
  { arbitrary: fc.array(fc.tuple(path, condition), { maxLength: 5 }).map((e) => new Obj(e)), weight: 4 },
  { arbitrary: hostileValue, weight: 1 },
);

/** Filters the schema accepts (most of the time), to reach the matcher rather than the validator. */
const plausibleFilters = fc
  .array(
    fc.tuple(
      fc
        .array(fc.constantFrom('metadata', 'source', 'companionId', 'userId', 'a', '0', 'toString', 'length'), {
          minLength: 1,
          maxLength: 3,
        })
        .map((s) => s.join('.')),
      fc.oneof(
        fc.array(
          fc.oneof(fc.string({ unit: fc.constantFrom('a', '*', '-', 'c'), minLength: 1, maxLength: 40 }), fc.integer(), fc.boolean()),
          { minLength: 1, maxLength: 4 },
        ),
        fc
          .record({ gte: fc.double({ noNaN: true, noDefaultInfinity: true }), lt: fc.integer() }, { requiredKeys: [] })
          .filter((o) => Object.keys(o).length > 0),
        fc.record({ not: fc.array(fc.string({ minLength: 1, maxLength: 10 }), { minLength: 1, maxLength: 3 }) }),
        fc.record({ exists: fc.boolean() }),
      ),
    ),
    { minLength: 1, maxLength: 4 },
  )
  .map((e) => new Obj(e));

const eventsList = fc.oneof(
  fc.subarray(['*', 'message.*', 'chat.*', ...EVENT_TYPES], { minLength: 1, maxLength: 4 }),
  fc.array(fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('nope.*', 'message.', '**', 'message.sent.x')), { maxLength: 3 }),
  hostileValue,
);
const headerName = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.constantFrom('X-Custom', 'content-type', 'X-Humana-Event', 'webhook-id', 'Host', 'a\r\nb', 'a b', ...PROTO_KEYS),
);
const headerValue = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constant('a\r\nInjected: 1'),
  fc.constant('\u0000'),
  hugeString,
  hostileValue,
);
const headers = fc.oneof(
  fc.array(fc.tuple(headerName, headerValue), { maxLength: 4 }).map((e) => new Obj(e)),
  hostileValue,
);
const number = fc.oneof(fc.integer({ min: -10, max: 100_000 }), fc.double(), fc.constantFrom(0, 1, 20, 21, 86_400, 86_401, 1e308));
const retry = fc.oneof(
  fc
    .array(
      fc.tuple(fc.constantFrom('maxAttempts', 'backoffMultiplier', 'maxDelay', 'jitter', '__proto__'), fc.oneof(number, hostileValue)),
      { maxLength: 3 },
    )
    .map((e) => new Obj(e)),
  hostileValue,
);
const transform = fc.oneof(
  fc.constantFrom('$', '{"id": id, "companion": data.companionId}', '$sum(data.*)', '(', '$$$', '$eval("1")', 'function($x){$x}'),
  fc.integer({ min: 1, max: 3000 }).map((n) => `${'('.repeat(n)}1${')'.repeat(n)}`),
  fc.string({ maxLength: 60 }),
  hugeString,
  hostileValue,
);

function webhookBody(url: fc.Arbitrary<unknown>) {
  return fc
    .record(
      {
        url,
        events: eventsList,
        filters,
        headers,
        retry,
        transform,
        batch: fc.oneof(
          fc.record({ maxSize: number, maxWaitMs: number }).map((o) => new Obj(Object.entries(o))),
          hostileValue,
        ),
        timeoutMs: fc.oneof(number, hostileValue),
        description: fc.oneof(fc.string({ maxLength: 600 }), hostileValue),
        enabled: fc.oneof(fc.boolean(), hostileValue),
        secret: fc.oneof(fc.string({ maxLength: 40 }), fc.constant('whsec_!!!!'), hostileValue),
        [PROTO_KEYS[0]]: hostileValue,
        unknownField: hostileValue,
      },
      { requiredKeys: [] },
    )
    .map((fields) => new Obj(Object.entries(fields)));
}

describe('hostile webhook definitions', () => {
  let t: HostileTarget;
  let sink: Awaited<ReturnType<typeof startSink>>;
  let urls: fc.Arbitrary<unknown>;

  before(async () => {
    t = await startTarget();
    sink = await startSink();
    urls = fc.oneof(
      { arbitrary: fc.string({ maxLength: 30 }).map((p) => `${sink.url}/${p}`), weight: 4 },
      {
        arbitrary: fc.constantFrom(
          'ftp://x/y',
          'javascript:alert(1)',
          '/relative',
          'http://',
          'http://[::1',
          'http://a b/',
          'http://127.0.0.1:1/\r\nHost: x',
        ),
        weight: 2,
      },
      { arbitrary: fc.oneof(fc.string({ maxLength: 40 }), hugeString, hostileValue), weight: 1 },
    );
  });
  after(async () => {
    await t.close();
    await sink.close();
  });

  test('POST /api/v1/webhooks and PATCH: a 2xx that reads back as written, or a clear 4xx', async () => {
    const base = await call(t, 'POST', '/api/v1/webhooks', { url: `${sink.url}/base`, events: ['chat.ended'] });
    assert.equal(base.status, 201, base.text);
    const baseId = (base.json as { id: string }).id;
    await fc.assert(
      fc.asyncProperty(webhookBody(urls), fc.boolean(), async (body, patch) => {
        const text = jsonText(body);
        const a = patch ? await call(t, 'PATCH', `/api/v1/webhooks/${baseId}`, text) : await call(t, 'POST', '/api/v1/webhooks', text);
        assertClearAnswer(a, text.slice(0, 200));
        if (a.status >= 300) return;
        const id = (a.json as { id: string }).id;
        const read = await call(t, 'GET', `/api/v1/webhooks/${id}`);
        assert.equal(read.status, 200, read.text);
        const sent = JSON.parse(text) as { filters?: unknown };
        if (sent.filters !== undefined)
          assert.deepEqual((read.json as { filters: unknown }).filters, sent.filters, 'filters read back unchanged');
        if (!patch) assert.equal((await call(t, 'DELETE', `/api/v1/webhooks/${id}`)).status, 204);
      }),
      { numRuns: RUNS },
    );
    await assertHealthy(t);
  });

  test('filters: whatever is accepted is matched against hostile data without throwing, quickly', () => {
    const data = fc.oneof(
      fc
        .array(
          fc.tuple(fc.oneof(fc.constantFrom(...PROTO_KEYS, 'metadata', 'source', 'a', '0'), fc.string({ maxLength: 8 })), hostileValue),
          { maxLength: 6 },
        )
        .map((e) => new Obj(e)),
      fc.constant(new Raw(`${'{"a":'.repeat(500)}1${'}'.repeat(500)}`)),
    );
    let accepted = 0;
    fc.assert(
      fc.property(filters, data, (f, d) => {
        const parsed = createWebhookSchema.safeParse({ url: 'https://example.com/x', events: ['*'], filters: JSON.parse(jsonText(f)) });
        if (!parsed.success) return;
        accepted++;
        const started = performance.now();
        const result = compileFilters(parsed.data.filters as WebhookFilters | null)(JSON.parse(jsonText(d)) as Record<string, unknown>);
        assert.equal(typeof result, 'boolean');
        assert.ok(performance.now() - started < 250, 'a bounded amount of work per event');
      }),
      { numRuns: 2_000 },
    );
    assert.ok(accepted > 100, `only ${accepted} of the generated filters were valid`);
  });

  test('webhooks with hostile filters match hostile events in the worker; deliveries keep flowing', async () => {
    const sentinel = await call(t, 'POST', '/api/v1/webhooks', { url: `${sink.url}/sentinel`, events: ['companion.activated'] });
    assert.equal(sentinel.status, 201, sentinel.text);
    const data = fc
      .array(
        fc.tuple(
          fc.oneof(fc.constantFrom(...PROTO_KEYS, 'metadata', 'source', 'companionId', 'a'), fc.string({ maxLength: 8 })),
          fc.oneof(hostileValue, hugeString),
        ),
        { maxLength: 4 },
      )
      .map((extra) => new Obj([...Object.entries(exampleEvents['message.sent']), ...extra]));
    const hooks: string[] = [];
    await fc.assert(
      fc.asyncProperty(fc.oneof(plausibleFilters, filters), data, async (f, d) => {
        const created = await call(
          t,
          'POST',
          '/api/v1/webhooks',
          jsonText(
            new Obj([
              ['url', `${sink.url}/filtered`],
              ['events', ['message.*']],
              ['filters', f],
            ]),
          ),
        );
        assertClearAnswer(created, jsonText(f).slice(0, 200));
        if (created.status === 201) hooks.push((created.json as { id: string }).id);
        assertClearAnswer(
          await call(
            t,
            'POST',
            '/api/v1/events',
            jsonText(
              new Obj([
                ['type', 'message.sent'],
                ['data', d],
              ]),
            ),
          ),
          'publish',
        );
      }),
      { numRuns: RUNS / 3 }, // each run creates a webhook and fans an event out to every one so far,
    );
    assert.ok(hooks.length > 15, `only ${hooks.length} webhooks were created`);
    const done = await call(t, 'POST', '/api/v1/events', { type: 'companion.activated', data: exampleEvents['companion.activated'] });
    assert.equal(done.status, 202, done.text);
    await eventually(() => (sink.hits.get('/sentinel') ?? 0) > 0, 4 * PER_INPUT_MS, 'the sentinel delivery after every hostile event');
    await assertHealthy(t);
  });
});
