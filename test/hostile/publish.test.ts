import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { EVENT_TYPES, exampleEvents } from '../../src/events/catalog.js';
import {
  assertClearAnswer,
  assertHealthy,
  call,
  deepNesting,
  hostileValue,
  hugeString,
  jsonText,
  Obj,
  PROTO_KEYS,
  RUNS,
  startTarget,
  type HostileTarget,
} from './support.js';

const type = fc.oneof(fc.constantFrom(...EVENT_TYPES), fc.constantFrom('message.*', '*', 'webhook.test', ''), hostileValue, hugeString);

/** A catalog example with extra, missing or replaced fields. */
const data = fc.oneof(
  fc
    .tuple(
      fc.constantFrom(...EVENT_TYPES),
      fc.array(
        fc.tuple(
          fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom(...PROTO_KEYS, 'companionId', 'timestamp', 'metadata')),
          fc.oneof(hostileValue, hugeString, deepNesting),
        ),
        { maxLength: 4 },
      ),
    )
    .map(([t, extra]) => new Obj([...Object.entries(exampleEvents[t]), ...extra])),
  hostileValue,
  deepNesting,
);

const event = fc
  .record(
    {
      type,
      data,
      id: fc.oneof(fc.string({ maxLength: 80 }), hostileValue),
      extra: fc.array(fc.tuple(fc.constantFrom(...PROTO_KEYS, 'organizationId', 'timestamp'), hostileValue), { maxLength: 2 }),
    },
    { requiredKeys: ['type', 'data', 'extra'] },
  )
  .map(({ extra, ...fields }) => new Obj([...Object.entries(fields), ...extra]));

/** A whole request body as text: structured events, arbitrary JSON, deep nesting, or not JSON at all. */
const publishBody = fc.oneof(
  { arbitrary: event.map(jsonText), weight: 4 },
  { arbitrary: hostileValue.map(jsonText), weight: 2 },
  { arbitrary: deepNesting.map(jsonText), weight: 1 },
  { arbitrary: fc.string({ maxLength: 200 }), weight: 1 },
);

const batchBody = fc.oneof(
  {
    arbitrary: fc
      .array(fc.oneof(event, hostileValue, deepNesting), { maxLength: 6 })
      .map((events) => jsonText(new Obj([['events', events]]))),
    weight: 4,
  },
  { arbitrary: hostileValue.map((v) => jsonText(new Obj([['events', v]]))), weight: 1 },
  { arbitrary: publishBody, weight: 1 },
);

const contentType = fc.constantFrom(
  'application/json',
  'application/json',
  'application/json',
  'text/plain',
  'application/cloudevents+json',
  'application/x-www-form-urlencoded',
);

describe('hostile publish bodies', () => {
  let t: HostileTarget;
  before(async () => (t = await startTarget()));
  after(() => t.close());

  test('POST /api/v1/events: a 202 or a clear 4xx, never a 500 or a stall', async () => {
    await fc.assert(
      fc.asyncProperty(publishBody, contentType, async (body, ct) => {
        assertClearAnswer(await call(t, 'POST', '/api/v1/events', body, { 'Content-Type': ct }), `${ct} ${body.slice(0, 120)}`);
      }),
      { numRuns: RUNS },
    );
    await assertHealthy(t);
  });

  test('POST /api/v1/events/batch: a 202 with one result per input or a clear 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(batchBody, async (body) => {
        const a = await call(t, 'POST', '/api/v1/events/batch', body);
        assertClearAnswer(a, body.slice(0, 120));
        if (a.status === 202) {
          const n = (JSON.parse(body) as { events: unknown[] }).events.length;
          const results = (a.json as { results: unknown[] }).results;
          if (results.length !== n) throw new Error(`${n} inputs, ${results.length} results`);
        }
      }),
      { numRuns: RUNS },
    );
    await assertHealthy(t);
  });

  test('a body past the size limit is a 413, an Idempotency-Key of any shape a 202 or a 400', async () => {
    const big = JSON.stringify({ type: 'message.sent', data: { ...exampleEvents['message.sent'], content: 'x'.repeat(6 * 1024 * 1024) } });
    const tooLarge = await call(t, 'POST', '/api/v1/events', big);
    assertClearAnswer(tooLarge, 'too large');
    if (tooLarge.status !== 413) throw new Error(`expected 413, got ${tooLarge.status}`);
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 300 }).filter((s) => /^[\x20-\x7e]*$/.test(s)),
        async (key) => {
          const a = await call(
            t,
            'POST',
            '/api/v1/events',
            { type: 'message.sent', data: exampleEvents['message.sent'] },
            { 'Idempotency-Key': key },
          );
          assertClearAnswer(a, `Idempotency-Key ${key}`);
        },
      ),
      { numRuns: 50 },
    );
    await assertHealthy(t);
  });
});
