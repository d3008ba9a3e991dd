// The console's pure ES modules, imported from admin/ as the browser does (no build step), checked against the real API.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type * as ApiModule from '../../admin/js/lib/api.js';
import type * as BoundedLogModule from '../../admin/js/lib/bounded-log.js';
import type * as FormatModule from '../../admin/js/lib/format.js';
import type * as QueryModule from '../../admin/js/lib/query.js';
import type * as SchemaExampleModule from '../../admin/js/lib/schema-example.js';
import { CONSOLE_ROOT } from '../../src/admin/console-files.js';
import { BOOTSTRAP_KEY, startTestApp, type TestApp } from '../support/launcher.js';

const load = <T>(file: string): Promise<T> => import(new URL(`js/lib/${file}`, `file://${CONSOLE_ROOT}`).href) as Promise<T>;

const api = await load<typeof ApiModule>('api.js');
const format = await load<typeof FormatModule>('format.js');
const query = await load<typeof QueryModule>('query.js');
const examples = await load<typeof SchemaExampleModule>('schema-example.js');
const { BoundedLog } = await load<typeof BoundedLogModule>('bounded-log.js');

test('format: durations, percentages, masks, truncation, times', () => {
  assert.equal(format.formatDuration(245), '245 ms');
  assert.equal(format.formatDuration(2500), '2.50 s');
  assert.equal(format.formatDuration(12_340), '12.3 s');
  assert.equal(format.formatDuration(185_000), '3 min 5 s');
  assert.equal(format.formatDuration(7_260_000), '2 h 1 min');
  assert.equal(format.formatDuration(undefined), '—');
  assert.equal(format.successPercent({ successful: 3, failed: 1, percentage: 0.75 }), 75);
  assert.equal(format.successPercent({ successful: 0, failed: 0, percentage: 99.5 }), 99.5);
  assert.equal(format.successPercent(null), null);
  assert.equal(format.formatPercent(97.25), '97.3 %');
  assert.equal(format.formatPercent(100), '100 %');
  assert.equal(format.formatPercent(null), '—');
  assert.equal(format.maskSecret('hk_test_bootstrap_0123456789abcdef'), 'hk_test…cdef');
  assert.equal(format.maskSecret('short'), '•••••');
  assert.equal(format.truncate('abcdef', 4), 'abc…');
  assert.equal(format.truncate('abc', 4), 'abc');
  const d = new Date(2024, 0, 15, 10, 30, 5);
  assert.equal(format.formatTime(d.toISOString()), '2024-01-15 10:30:05');
  assert.equal(format.formatTime('not a date'), 'not a date');
  assert.equal(format.formatTime(''), '—');
  assert.equal(format.formatAgo(1_000_000 - 30_000, 1_000_000), '30 s ago');
  assert.equal(format.formatAgo(1_000_000 - 7_200_000, 1_000_000), '2 h ago');
  assert.equal(format.prettyJson({ a: 1 }), '{\n  "a": 1\n}');
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.equal(format.prettyJson(cyclic), '[object Object]');
});

test('query: empty values left out, lists joined, dates to ISO, JSON objects only', () => {
  assert.equal(query.toQuery({ a: 'x y', b: '', c: undefined, d: 3, e: ['m', 'n'], f: null, g: [] }), '?a=x+y&d=3&e=m%2Cn');
  assert.equal(query.toQuery({}), '');
  assert.equal(query.localInputToIso(''), '');
  assert.equal(query.localInputToIso('garbage'), null);
  assert.equal(query.localInputToIso('2024-01-15T10:30'), new Date(2024, 0, 15, 10, 30).toISOString());
  assert.deepEqual(query.splitList(' a, b,,c '), ['a', 'b', 'c']);
  assert.deepEqual(query.parseJsonObject(''), { value: undefined });
  assert.deepEqual(query.parseJsonObject('{"userId":["user-*"]}'), { value: { userId: ['user-*'] } });
  assert.match(query.parseJsonObject('[1]').error!, /JSON object/);
  assert.match(query.parseJsonObject('{nope').error!, /^Not valid JSON/);
});

test('bounded log keeps the newest N and drops repeated ids', () => {
  const log = new BoundedLog(3);
  for (const id of ['e1', 'e2', 'e3', 'e4']) log.push({ id });
  assert.deepEqual(
    log.entries.map((e) => e.id),
    ['e2', 'e3', 'e4'],
  );
  assert.equal(log.push({ id: 'e4' }).added, false);
  assert.deepEqual(
    log.push({ id: 'e1' }).dropped.map((e) => e.id),
    ['e2'],
  ); // e1 was dropped, so it is new again
  assert.equal(log.total, 5);
  log.clear();
  assert.equal(log.size, 0);
});

test('API errors: the contract shape, anything else, and missing endpoints', () => {
  const e = api.errorFromResponse(
    400,
    JSON.stringify({
      error: { code: 'validation_error', message: 'url: Invalid URL', details: [{ field: 'url', message: 'Invalid URL', code: 'x' }] },
    }),
  );
  assert.equal(e.status, 400);
  assert.equal(e.code, 'validation_error');
  assert.deepEqual(e.details, [{ field: 'url', message: 'Invalid URL' }]);
  assert.equal(api.errorSummary(e), 'url: Invalid URL (validation_error, HTTP 400)');
  const html = api.errorFromResponse(502, '<html>Bad gateway</html>', 'Bad Gateway');
  assert.deepEqual([html.code, html.message], ['http_502', 'Bad Gateway']);
  assert.equal(api.errorFromResponse(500, 'plain text oops').message, 'plain text oops');
  assert.equal(api.errorFromResponse(503, '').message, 'HTTP 503');
  assert.match(
    api.errorSummary(api.errorFromResponse(401, '{"error":{"code":"unauthorized","message":"Missing or invalid API key","details":[]}}')),
    /sign in again/,
  );
  assert.match(api.errorSummary(new api.ApiError(0, 'network_error', 'Cannot reach the server')), /network error/);
  assert.equal(api.seg('a/b?c'), 'a%2Fb%3Fc');
});

describe('console helpers against the real API', () => {
  let app: TestApp;
  let client: ApiModule.Api;
  before(async () => {
    app = await startTestApp();
    client = api.createApi({ token: () => BOOTSTRAP_KEY, fetch: (input, init) => fetch(`${app.url}${String(input)}`, init) });
  });
  after(() => app.close());

  test('errors from the server parse into ApiError; an unknown route is a 404 like any other', async () => {
    const missing = await client.get('/api/v1/not-built-yet').then(
      () => null,
      (err: unknown) => err,
    );
    assert.ok(missing instanceof api.ApiError);
    assert.equal(missing.status, 404);
    assert.match(api.errorSummary(missing), /HTTP 404/);
    const badKey = await client.get('/api/v1/events/history', { token: 'hk_wrong_key_0123456789' }).then(
      () => null,
      (err: unknown) => err,
    );
    assert.ok(badKey instanceof api.ApiError && badKey.status === 401 && badKey.code === 'unauthorized');
    const invalid = await client.post('/api/v1/events', { type: 'message.sent', data: { messageId: 42 } }).then(
      () => null,
      (err: unknown) => err,
    );
    assert.ok(invalid instanceof api.ApiError && invalid.status === 400);
    assert.ok(
      invalid.details.some((d) => d.field === 'data.messageId'),
      JSON.stringify(invalid.details),
    );
    const unknownEvent = await client.get('/api/v1/events/evt_00000000000000000').then(
      () => null,
      (err: unknown) => err,
    );
    assert.ok(unknownEvent instanceof api.ApiError && unknownEvent.status === 404);
  });

  test('the example built from each catalog schema publishes (202) as is', async () => {
    const { eventTypes } = (await client.get('/api/v1/event-types', { token: '' })) as { eventTypes: { type: string; schema: unknown }[] };
    assert.equal(eventTypes.length, 18);
    for (const { type, schema } of eventTypes) {
      const data = examples.exampleEventData(schema);
      assert.ok(!('timestamp' in data), type);
      const envelope = (await client.post('/api/v1/events', { type, data })) as { id: string; type: string };
      assert.equal(envelope.type, type);
      assert.match(envelope.id, /^evt_/);
    }
  });
});

test('schema examples: enums, bounds, nested required objects, ids', () => {
  const schema = {
    type: 'object',
    properties: {
      companionId: { type: 'string', minLength: 1 },
      kind: { type: 'string', enum: ['trend', 'anomaly'] },
      confidence: { type: 'number', minimum: 0, maximum: 1 },
      count: { type: 'integer', minimum: 0 },
      flag: { type: 'boolean' },
      tags: { type: 'array', items: { type: 'string' } },
      nested: { type: 'object', properties: { at: { type: 'string', format: 'date-time' } } },
      maybe: { anyOf: [{ type: 'null' }, { type: 'string', const: 'x' }] },
      timestamp: { type: 'string', format: 'date-time' },
    },
  };
  const data = examples.exampleEventData(schema) as Record<string, unknown>;
  assert.equal(data.companionId, 'companion-1');
  assert.equal(data.kind, 'trend');
  assert.equal(data.confidence, 0.5);
  assert.equal(data.count, 1);
  assert.equal(data.flag, false);
  assert.deepEqual(data.tags, ['tags']);
  assert.ok(!Number.isNaN(Date.parse(String((data.nested as { at: string }).at))));
  assert.equal(data.maybe, 'x');
  assert.ok(!('timestamp' in data));
  assert.equal(examples.exampleFromSchema({ type: 'string', minLength: 12 }, 'ab'), 'abxxxxxxxxxx');
});
