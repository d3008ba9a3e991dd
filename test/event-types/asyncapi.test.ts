import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Parser } from '@asyncapi/parser';
import { createOrg, startTestApp, type TestApp, type TestOrg } from './support.js';

describe('AsyncAPI 3 document', () => {
  let app: TestApp;
  let org: TestOrg;
  before(async () => {
    app = await startTestApp();
    org = await createOrg(app);
    await app.http
      .post('/api/v1/event-types')
      .set(org.auth)
      .send({
        name: 'invoice.paid',
        schema: {
          type: 'object',
          required: ['invoiceId'],
          properties: { invoiceId: { type: 'string' }, lines: { type: 'array', items: { $ref: '#/$defs/line' } } },
          $defs: { line: { type: 'object', properties: { amount: { type: 'number' } } } },
        },
        examples: [{ invoiceId: 'inv-1' }],
      })
      .expect(201);
  });
  after(() => app.close());

  async function parse(doc: unknown) {
    const { document, diagnostics } = await new Parser().parse(JSON.stringify(doc));
    const errors = diagnostics.filter((d) => d.severity === 0);
    assert.deepEqual(
      errors.map((d) => `${d.path.join('/')}: ${d.message}`),
      [],
    );
    assert.ok(document, 'parsed');
    return document!;
  }

  test('public: built-in types on SSE, WebSocket and webhooks; valid per @asyncapi/parser', async () => {
    const res = await app.http.get('/api/v1/asyncapi.json').expect(200);
    assert.equal(res.body.asyncapi, '3.0.0');
    const doc = await parse(res.body);
    const sse = doc.channels().get('eventStream')!;
    assert.equal(sse.address(), '/api/v1/events/stream');
    const sseNames = sse
      .messages()
      .all()
      .map((m) => m.name());
    assert.ok(sseNames.includes('message.sent') && sseNames.includes('heartbeat'));
    assert.equal(sseNames.length, 18 + 2);
    const ws = doc.channels().get('websocket')!;
    assert.deepEqual(
      ws
        .messages()
        .all()
        .map((m) => m.name())
        .sort(),
      ['ack', 'chat', 'error', 'event', 'ping', 'pong', 'subscribe', 'unsubscribe'],
    );
    const hook = doc
      .channels()
      .get('webhook')!
      .messages()
      .all()
      .find((m) => m.name() === 'message.sent')!;
    const headers = Object.keys(hook.headers()!.properties()!);
    for (const h of ['X-Humana-Signature', 'X-Humana-Timestamp', 'webhook-id', 'webhook-timestamp', 'webhook-signature', 'Content-Type'])
      assert.ok(headers.includes(h), h);
    assert.ok(!sseNames.includes('invoice.paid'));
  });

  test("with an API key: the organization's own types too", async () => {
    const res = await app.http.get('/api/v1/asyncapi.json').set(org.auth).expect(200);
    const doc = await parse(res.body);
    const custom = doc
      .channels()
      .get('eventStream')!
      .messages()
      .all()
      .find((m) => m.name() === 'invoice.paid');
    assert.ok(custom, 'custom type listed');
    assert.deepEqual(custom.payload()!.required(), ['invoiceId']);
    assert.equal(custom.payload()!.properties()!.lines.items() && true, true, 'internal $ref resolved');
    assert.ok(
      doc
        .channels()
        .get('webhook')!
        .messages()
        .all()
        .some((m) => m.name() === 'invoice.paid'),
    );
  });
});
