import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EVENT_TYPES, exampleEvents, eventSchemas } from '../../src/events/catalog.js';
import { createOrg, startTestApp, type TestApp, type TestOrg } from '../support/launcher.js';

/** For each type: one required field to drop, one enum to break (when it has one), one field of the wrong type. */
function requiredFields(type: keyof typeof eventSchemas): string[] {
  const shape = eventSchemas[type].shape as Record<string, { safeParse(v: unknown): { success: boolean } }>;
  return Object.keys(shape).filter((k) => k !== 'timestamp' && !shape[k].safeParse(undefined).success);
}

describe('publishing and the event catalog', () => {
  let app: TestApp;
  let org: TestOrg;
  before(async () => {
    app = await startTestApp({ env: { MAX_BODY_BYTES: '200000' } });
    org = await createOrg(app);
  });
  after(() => app.close());

  test('GET /api/v1/event-types lists every seed type with a JSON Schema', async () => {
    const res = await app.http.get('/api/v1/event-types').expect(200);
    const types = res.body.eventTypes.map((t: { type: string }) => t.type);
    assert.deepEqual(types.sort(), [...EVENT_TYPES].sort());
    assert.equal(types.length, 18);
    const sent = res.body.eventTypes.find((t: { type: string }) => t.type === 'message.sent');
    assert.deepEqual(sent.schema.properties.type.enum, ['text', 'image', 'file', 'structured']);
    assert.ok(sent.schema.required.includes('messageId'));
    const err = res.body.eventTypes.find((t: { type: string }) => t.type === 'error.occurred');
    assert.ok(!err.schema.required.includes('companionId'), 'optional seed fields are optional');
  });

  for (const type of EVENT_TYPES) {
    test(`${type}: valid accepted; missing field, bad enum and wrong type refused naming the field`, async () => {
      const example = exampleEvents[type] as Record<string, unknown>;
      const ok = await app.http.post('/api/v1/events').set(org.auth).send({ type, data: example }).expect(202);
      assert.match(ok.body.id, /^evt_/);
      assert.equal(ok.body.type, type);
      assert.equal(ok.body.organizationId, org.id);
      assert.ok(!Number.isNaN(Date.parse(ok.body.timestamp)));
      assert.ok(typeof ok.body.data.timestamp === 'string', 'data.timestamp filled in');

      const field = requiredFields(type)[0];
      const missing = { ...example };
      delete missing[field];
      const r1 = await app.http.post('/api/v1/events').set(org.auth).send({ type, data: missing }).expect(400);
      assert.equal(r1.body.error.code, 'validation_error');
      assert.ok(
        r1.body.error.details.some((d: { field: string }) => d.field === `data.${field}`),
        JSON.stringify(r1.body),
      );
      assert.match(r1.body.error.message, new RegExp(`data\\.${field}`));

      const enumField = Object.entries(example).find(([k]) => {
        const s = (eventSchemas[type].shape as Record<string, { def?: { type?: string } }>)[k];
        return s?.def?.type === 'enum';
      })?.[0];
      if (enumField) {
        const r2 = await app.http
          .post('/api/v1/events')
          .set(org.auth)
          .send({ type, data: { ...example, [enumField]: 'not-a-value' } })
          .expect(400);
        assert.ok(r2.body.error.details.some((d: { field: string }) => d.field === `data.${enumField}`));
      }
      const wrongTypeField = requiredFields(type).find((k) => typeof example[k] === 'string') ?? requiredFields(type)[0];
      const r3 = await app.http
        .post('/api/v1/events')
        .set(org.auth)
        .send({ type, data: { ...example, [wrongTypeField]: { nested: true } } })
        .expect(400);
      assert.ok(r3.body.error.details.some((d: { field: string }) => d.field === `data.${wrongTypeField}`));
    });
  }

  test('unknown type → 422; no key / wrong key → 401; malformed JSON → 400; too large → 413', async () => {
    const unknown = await app.http.post('/api/v1/events').set(org.auth).send({ type: 'nope.happened', data: {} }).expect(422);
    assert.equal(unknown.body.error.code, 'unknown_event_type');
    const body = { type: 'companion.activated', data: exampleEvents['companion.activated'] };
    const noKey = await app.http.post('/api/v1/events').send(body).expect(401);
    assert.equal(noKey.body.error.code, 'unauthorized');
    await app.http.post('/api/v1/events').set('Authorization', 'Bearer hk_wrong').send(body).expect(401);
    const bad = await app.http.post('/api/v1/events').set(org.auth).set('Content-Type', 'application/json').send('{"type": ').expect(400);
    assert.equal(bad.body.error.code, 'malformed_json');
    const huge = { type: 'companion.deactivated', data: { companionId: 'c', reason: 'x'.repeat(300_000) } };
    const tooBig = await app.http.post('/api/v1/events').set(org.auth).send(huge).expect(413);
    assert.equal(tooBig.body.error.code, 'payload_too_large');
    const nf = await app.http.get('/api/v1/does-not-exist').set(org.auth).expect(404);
    assert.equal(nf.body.error.code, 'not_found');
  });

  test('a key without the scope gets 403', async () => {
    const reader = await createOrg(app, 'reader', ['events:read']);
    const r = await app.http
      .post('/api/v1/events')
      .set(reader.auth)
      .send({ type: 'companion.activated', data: exampleEvents['companion.activated'] })
      .expect(403);
    assert.equal(r.body.error.code, 'forbidden');
  });

  test('batch: per-item results in order; invalid items do not block valid ones; > 1000 refused', async () => {
    const res = await app.http
      .post('/api/v1/events/batch')
      .set(org.auth)
      .send({
        events: [
          { type: 'companion.activated', data: exampleEvents['companion.activated'] },
          { type: 'bogus', data: {} },
          { type: 'companion.deleted', data: {} },
          { type: 'chat.started', data: exampleEvents['chat.started'] },
        ],
      })
      .expect(202);
    const r = res.body.results;
    assert.equal(r.length, 4);
    assert.match(r[0].id, /^evt_/);
    assert.equal(r[1].error.code, 'unknown_event_type');
    assert.equal(r[2].error.code, 'validation_error');
    assert.match(r[3].id, /^evt_/);
    assert.ok(r[0].id < r[3].id, 'ids sort by log order');
    const tooMany = Array.from({ length: 1001 }, () => ({ type: 'companion.activated', data: exampleEvents['companion.activated'] }));
    const over = await app.http.post('/api/v1/events/batch').set(org.auth).send({ events: tooMany }).expect(400);
    assert.ok(over.body.error.details.some((d: { field: string }) => d.field === 'events'));
  });

  test('idempotency: same id twice → one event, same envelope; Idempotency-Key header too; scoped per organization', async () => {
    const body = { id: 'order-42-created', type: 'companion.created', data: exampleEvents['companion.created'] };
    const a = await app.http.post('/api/v1/events').set(org.auth).send(body).expect(202);
    const b = await app.http
      .post('/api/v1/events')
      .set(org.auth)
      .send({ ...body, data: { ...body.data, name: 'Changed' } })
      .expect(202);
    assert.deepEqual(b.body, a.body);
    const h1 = await app.http
      .post('/api/v1/events')
      .set(org.auth)
      .set('Idempotency-Key', 'hdr-1')
      .send({ type: 'companion.activated', data: exampleEvents['companion.activated'] })
      .expect(202);
    const h2 = await app.http
      .post('/api/v1/events')
      .set(org.auth)
      .set('Idempotency-Key', 'hdr-1')
      .send({ type: 'companion.activated', data: exampleEvents['companion.activated'] })
      .expect(202);
    assert.equal(h1.body.id, h2.body.id);
    const other = await createOrg(app);
    const c = await app.http.post('/api/v1/events').set(other.auth).send(body).expect(202);
    assert.notEqual(c.body.id, a.body.id);
    await app.http.post('/api/v1/events').set(org.auth).set('Idempotency-Key', 'bad key with spaces').send(body).expect(400);
  });
});
