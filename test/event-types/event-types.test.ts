import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventSource } from 'eventsource';
import { createOrg, databases, Receiver, startTestApp, waitFor, WsClient, wsUrl, type TestApp, type TestOrg } from './support.js';

const orderSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  required: ['orderId', 'items'],
  properties: {
    orderId: { type: 'string', minLength: 1 },
    items: {
      type: 'array',
      minItems: 1,
      items: { type: 'object', required: ['sku', 'price'], properties: { sku: { type: 'string' }, price: { type: 'number', minimum: 0 } } },
    },
    note: { type: 'string' },
  },
};
const example = { orderId: 'ord-1', items: [{ sku: 'sku-1', price: 9.5 }] };

for (const db of databases()) {
  describe(`custom event types (${db})`, () => {
    let app: TestApp;
    let a: TestOrg;
    let b: TestOrg;
    let rx: Receiver;
    before(async () => {
      app = await startTestApp({ db, env: { HEARTBEAT_INTERVAL_MS: '300' } });
      [a, b] = [await createOrg(app), await createOrg(app)];
      rx = await Receiver.start();
    });
    after(async () => {
      await rx.close();
      await app.close();
    });

    const publish = (org: TestOrg, type: string, data: object) => app.http.post('/api/v1/events').set(org.auth).send({ type, data });

    test('register: 201, listed with builtIn and version, readable by name; invisible to another organization', async () => {
      const res = await app.http
        .post('/api/v1/event-types')
        .set(a.auth)
        .send({ name: 'order.created', description: 'An order was placed.', schema: orderSchema, examples: [example] });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.deepEqual([res.body.type, res.body.builtIn, res.body.version, res.body.category], ['order.created', false, 1, 'order']);

      const list = await app.http.get('/api/v1/event-types').set(a.auth).expect(200);
      assert.equal(list.body.eventTypes.length, 19);
      assert.ok(list.body.eventTypes.filter((t: { builtIn: boolean }) => t.builtIn).every((t: { version: number }) => t.version === 1));
      assert.equal(list.body.eventTypes.find((t: { type: string }) => t.type === 'order.created').builtIn, false);
      assert.equal((await app.http.get('/api/v1/event-types').expect(200)).body.eventTypes.length, 18, 'without a key: built-ins only');
      assert.equal((await app.http.get('/api/v1/event-types').set(b.auth).expect(200)).body.eventTypes.length, 18);
      assert.equal((await app.http.get('/api/v1/event-types').set({ Authorization: 'Bearer hk_nope' })).status, 401);
      await app.http.get('/api/v1/event-types/order.created').set(a.auth).expect(200);
      await app.http.get('/api/v1/event-types/message.sent').expect(200);
      const hidden = await app.http.get('/api/v1/event-types/order.created').set(b.auth).expect(404);
      assert.equal(hidden.body.error.code, 'not_found');
      await app.http.get('/api/v1/event-types/order.created').expect(404);
      const audit = await app.http.get('/api/v1/audit-log?action=event_type.created').set(a.auth).expect(200);
      assert.equal(audit.body.entries[0].resourceId, 'order.created');
    });

    test('bad definitions: names, built-ins, duplicates, hostile or invalid schemas, examples', async () => {
      const post = (body: object) => app.http.post('/api/v1/event-types').set(a.auth).send(body);
      const builtIn = await post({ name: 'message.sent', schema: { type: 'object' } });
      assert.deepEqual([builtIn.status, builtIn.body.error.code], [409, 'built_in_event_type']);
      const dup = await post({ name: 'order.created', schema: { type: 'object' } });
      assert.deepEqual([dup.status, dup.body.error.code], [409, 'conflict']);
      for (const [body, code, field] of [
        [{ name: 'Order', schema: { type: 'object' } }, 'validation_error', 'name'],
        [{ name: 'order', schema: { type: 'object' } }, 'validation_error', 'name'],
        [{ name: 'x.y', schema: { type: 'object' }, extra: 1 }, 'validation_error', '(root)'],
        [{ name: 'x.y', schema: { type: 'string' } }, 'invalid_schema', 'schema.type'],
        [{ name: 'x.y', schema: { type: 'object', properties: { a: { type: 'string', pattern: '(a)\\1' } } } }, 'invalid_schema', 'schema'],
        [{ name: 'x.y', schema: { type: 'object', patternProperties: { '^(?=a)': {} } } }, 'invalid_schema', 'schema'],
        [
          { name: 'x.y', schema: { type: 'object', properties: { a: { $ref: 'https://evil.example/s.json' } } } },
          'invalid_schema',
          'schema',
        ],
        [{ name: 'x.y', schema: { type: 'object', $id: 'https://evil.example/s' } }, 'invalid_schema', 'schema'],
        [{ name: 'x.y', schema: { type: 'object', properties: { a: { type: 'array', uniqueItems: true } } } }, 'invalid_schema', 'schema'],
        [{ name: 'x.y', schema: { type: 'object', propertiez: {} } }, 'invalid_schema', 'schema'],
        [{ name: 'x.y', schema: { type: 'object', properties: { a: { type: 'strin' } } } }, 'invalid_schema', 'schema'],
        [{ name: 'x.y', schema: orderSchema, examples: [{ orderId: 'o' }] }, 'validation_error', 'examples.0.items'],
      ] as const) {
        const res = await post(body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(res.body.error.code, code, JSON.stringify(res.body));
        assert.ok(
          res.body.error.details.some((d: { field: string }) => d.field.startsWith(field)),
          JSON.stringify(res.body),
        );
      }
      const big = { type: 'object', description: 'x'.repeat(70 * 1024) };
      const tooBig = await post({ name: 'big.one', schema: big });
      assert.deepEqual([tooBig.status, tooBig.body.error.code], [413, 'schema_too_large']);
    });

    test('publish: valid events accepted, invalid ones 400 naming the failing path; other organizations get 422', async () => {
      const ok = await publish(a, 'order.created', example);
      assert.equal(ok.status, 202, JSON.stringify(ok.body));
      assert.deepEqual(ok.body.data, example, 'custom data is stored as sent');
      const bad = await publish(a, 'order.created', { orderId: 'o', items: [{ sku: 's', price: -1 }] });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.details[0].field, 'data.items.0.price');
      assert.equal(bad.body.error.details[0].instancePath, '/items/0/price');
      assert.match(bad.body.error.message, /data\.items\.0\.price/);
      const missing = await publish(a, 'order.created', { items: [] });
      assert.equal(missing.status, 400);
      assert.equal(missing.body.error.details[0].field, 'data.orderId');
      const other = await publish(b, 'order.created', example);
      assert.deepEqual([other.status, other.body.error.code], [422, 'unknown_event_type']);
      const batch = await app.http
        .post('/api/v1/events/batch')
        .set(a.auth)
        .send({
          events: [
            { type: 'order.created', data: example },
            { type: 'order.created', data: {} },
            { type: 'message.sent', data: {} },
          ],
        });
      assert.equal(batch.status, 202);
      assert.ok(batch.body.results[0].id);
      assert.equal(batch.body.results[1].error.status, 400);
      const hist = await waitFor(async () => {
        const r = await app.http.get('/api/v1/events/history?eventType=order.created').set(a.auth).expect(200);
        return r.body.events.length >= 2 ? r.body.events : null;
      });
      assert.ok(hist.every((e: { type: string }) => e.type === 'order.created'));
      assert.equal((await app.http.get('/api/v1/events/history?eventType=order.created').set(b.auth).expect(200)).body.events.length, 0);
    });

    test('patterns run in RE2: a catastrophic-backtracking pattern validates a long input at once', async () => {
      const schema = { type: 'object', required: ['code'], properties: { code: { type: 'string', pattern: '^(a+)+$' } } };
      await app.http.post('/api/v1/event-types').set(a.auth).send({ name: 'redos.checked', schema }).expect(201);
      assert.equal((await publish(a, 'redos.checked', { code: 'aaaa' })).status, 202);
      const started = Date.now();
      const hostile = await publish(a, 'redos.checked', { code: `${'a'.repeat(5000)}!` });
      assert.equal(hostile.status, 400);
      assert.equal(hostile.body.error.details[0].field, 'data.code');
      // V8's backtracking engine would take longer than the universe's age on this input; RE2 is linear.
      assert.ok(Date.now() - started < 5000, `answered in ${Date.now() - started} ms`);
    });

    test('webhook and SSE subscriptions by own type and category; another organization cannot name them', async () => {
      const hook = await app.http
        .post('/api/v1/webhooks')
        .set(a.auth)
        .send({ url: `${rx.url}/orders`, events: ['order.created'] });
      assert.equal(hook.status, 201, JSON.stringify(hook.body));
      const byCategory = await app.http
        .post('/api/v1/webhooks')
        .set(a.auth)
        .send({ url: `${rx.url}/orders-cat`, events: ['order.*', 'message.sent'] });
      assert.equal(byCategory.status, 201, JSON.stringify(byCategory.body));
      const foreign = await app.http
        .post('/api/v1/webhooks')
        .set(b.auth)
        .send({ url: `${rx.url}/x`, events: ['message.sent', 'order.created'] });
      assert.equal(foreign.status, 400);
      assert.equal(foreign.body.error.details[0].field, 'events.1');
      const foreignCat = await app.http
        .post('/api/v1/webhooks')
        .set(b.auth)
        .send({ url: `${rx.url}/x`, events: ['order.*'] });
      assert.equal(foreignCat.status, 400);
      const patched = await app.http
        .patch(`/api/v1/webhooks/${hook.body.id}`)
        .set(a.auth)
        .send({ events: ['order.created', 'order.nope'] });
      assert.equal(patched.status, 400);
      assert.equal(patched.body.error.details[0].field, 'events.1');

      const received: { type: string; id: string; data: unknown }[] = [];
      const es = new EventSource(`${app.url}/api/v1/events/stream?events=order.created`, {
        fetch: (input, init) => fetch(input, { ...init, headers: { ...init.headers, Authorization: `Bearer ${a.key}` } }),
      });
      es.addEventListener('order.created', (e) => received.push({ type: e.type, id: e.lastEventId, data: JSON.parse(e.data) }));
      await new Promise((resolve) => es.addEventListener('open', resolve, { once: true }));
      const sseForeign = await app.http.get('/api/v1/events/stream?events=order.created').set(b.auth);
      assert.equal(sseForeign.status, 400);
      const ws = await WsClient.open(wsUrl(app, 'events=order.*'), { headers: { Authorization: `Bearer ${a.key}` } });
      const wsBad = await WsClient.open(wsUrl(app), { headers: { Authorization: `Bearer ${b.key}` } });
      const refused = await wsBad.request({ type: 'subscribe', requestId: 'r', payload: { events: ['order.created'] } });
      assert.equal(refused.type, 'error');
      assert.equal((refused.payload as { details: { field: string }[] }).details[0].field, 'payload.events.0');
      wsBad.close();

      const published = await publish(a, 'order.created', { ...example, orderId: 'ord-hook' });
      assert.equal(published.status, 202);
      const [delivery] = (await waitFor(() => (rx.at('/orders').length ? rx.at('/orders') : null)))!;
      assert.equal(delivery.headers['x-humana-event'], 'order.created');
      assert.deepEqual(JSON.parse(delivery.body).data, { ...example, orderId: 'ord-hook' });
      await waitFor(() => (rx.at('/orders-cat').length ? true : null));
      await waitFor(() => (received.length ? true : null));
      assert.deepEqual(received[0], { type: 'order.created', id: published.body.id, data: { ...example, orderId: 'ord-hook' } });
      await waitFor(() => (ws.events().length ? true : null));
      assert.equal(ws.events()[0].payload.eventType, 'order.created');
      es.close();
      ws.close();

      const inUse = await app.http.delete('/api/v1/event-types/order.created').set(a.auth);
      assert.deepEqual([inUse.status, inUse.body.error.code], [409, 'event_type_in_use']);
      assert.equal(inUse.body.error.details[0].webhookId, hook.body.id);
    });

    test('versioning: an incompatible PUT is 409 unless forced; compatible changes bump the version', async () => {
      const put = (name: string, body: object, q = '') => app.http.put(`/api/v1/event-types/${name}${q}`).set(a.auth).send(body);
      // Accepted events (history) include note-less orders: requiring "note" would reject them.
      const stricter = { ...orderSchema, required: ['orderId', 'items', 'note'] };
      const refused = await put('order.created', { schema: stricter, examples: [{ ...example, note: 'n' }] });
      assert.deepEqual([refused.status, refused.body.error.code], [409, 'incompatible_schema'], JSON.stringify(refused.body));
      assert.ok(refused.body.error.details.some((d: { source: string }) => d.source === 'accepted event'));
      const looser = { ...orderSchema, properties: { ...orderSchema.properties, channel: { type: 'string' } } };
      const ok = await put('order.created', { schema: looser });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.equal(ok.body.version, 2);
      const forced = await put('order.created', { schema: stricter, examples: [{ ...example, note: 'n' }] }, '?force=true');
      assert.equal(forced.status, 200);
      assert.equal(forced.body.version, 3);
      const now = await publish(a, 'order.created', example);
      assert.equal(now.status, 400, 'the new version applies at once');
      assert.equal(now.body.error.details[0].field, 'data.note');
      assert.equal((await put('message.sent', { schema: { type: 'object' } })).status, 409);
      assert.equal((await app.http.put('/api/v1/event-types/order.created').set(b.auth).send({ schema: looser })).status, 404);
      assert.equal((await app.http.delete('/api/v1/event-types/order.created').set(b.auth)).status, 404);
      await app.http.delete('/api/v1/event-types/order.created?force=true').set(a.auth).expect(204);
      assert.equal((await publish(a, 'order.created', example)).status, 422);
    });

    test('limit: at most 100 types per organization', async () => {
      const c = await createOrg(app);
      for (let i = 0; i < 100; i++) {
        await app.http
          .post('/api/v1/event-types')
          .set(c.auth)
          .send({ name: `thing.t${i}`, schema: { type: 'object' } })
          .expect(201);
      }
      const res = await app.http
        .post('/api/v1/event-types')
        .set(c.auth)
        .send({ name: 'thing.t100', schema: { type: 'object' } });
      assert.deepEqual([res.status, res.body.error.code], [409, 'event_type_limit_reached']);
    });
  });
}
