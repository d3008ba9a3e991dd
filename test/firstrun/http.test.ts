import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv2020 } from 'ajv/dist/2020.js';
import request from 'supertest';
import { exampleEvents, EVENT_TYPES } from '../../src/events/catalog.js';
import { BOOTSTRAP_KEY, createTestDatabase, type TestDatabase } from '../support/launcher.js';
import { startPrivateRedis, type PrivateRedis } from '../support/redis.js';
import { spawnApp, type AppProcess } from '../support/launcher.js';

const AUTH = { Authorization: `Bearer ${BOOTSTRAP_KEY}` };

describe('HTTP edges and published schemas', () => {
  let redis: PrivateRedis;
  let db: TestDatabase;
  let app: AppProcess;
  let http: ReturnType<typeof request>;
  before(async () => {
    redis = await startPrivateRedis();
    db = createTestDatabase('sqlite');
    app = await spawnApp({ REDIS_URL: redis.url, DATABASE_URL: db.url }, { startTimeoutMs: 120_000 });
    http = request(app.url!);
  });
  after(async () => {
    await app?.kill('SIGKILL');
    await redis?.destroy();
    await db?.drop();
  });

  test('415 naming Content-Type for a body that is not JSON, or a missing body on a route that takes one', async () => {
    const event = JSON.stringify({ type: 'companion.activated', data: { companionId: 'c', previousStatus: 'x' } });
    for (const contentType of ['application/x-www-form-urlencoded', 'text/plain']) {
      const res = await http.post('/api/v1/events').set(AUTH).set('Content-Type', contentType).send(event).expect(415);
      assert.equal(res.body.error.code, 'unsupported_media_type');
      assert.match(res.body.error.message, /Content-Type: application\/json/);
      assert.match(res.body.error.message, new RegExp(contentType.replace('/', '\\/')));
      assert.equal(res.body.error.details[0].field, 'Content-Type');
    }
    const bare = await http.post('/api/v1/events').set(AUTH).expect(415);
    assert.match(bare.body.error.message, /no Content-Type/);
    await http.post('/api/v1/webhooks').set(AUTH).expect(415);
    await http.post('/api/v1/events').set(AUTH).set('Content-Type', 'application/json; charset=utf-8').send(event).expect(202);
    await http.post('/api/v1/events').set(AUTH).set('Content-Type', 'application/cloudevents+json').send(event).expect(202);
  });

  test('routes that take no body still work without one (no Content-Type)', async () => {
    const wh = await http
      .post('/api/v1/webhooks')
      .set(AUTH)
      .send({ url: 'http://127.0.0.1:9/hook', events: ['*'] })
      .expect(201);
    await http
      .post(`/api/v1/webhooks/${wh.body.id}/secret/rotate`)
      .set(AUTH)
      .expect((res) => assert.ok(res.status < 300, JSON.stringify(res.body)));
    await http.post(`/api/v1/webhooks/${wh.body.id}/test`).set(AUTH).expect(200);
    await http
      .post('/api/v1/dlq/retry')
      .set(AUTH)
      .expect((res) => assert.ok(res.status < 300, `${res.status} ${JSON.stringify(res.body)}`));
  });

  test('405 with Allow for a wrong method on an existing path; 404 for an unknown path', async () => {
    const res = await http.delete('/api/v1/events/batch').set(AUTH).expect(405);
    assert.equal(res.headers.allow, 'POST');
    assert.equal(res.body.error.code, 'method_not_allowed');
    assert.deepEqual(res.body.error.details, []);
    const history = await http.post('/api/v1/events/history').set(AUTH).expect(405);
    assert.equal(history.headers.allow, 'GET, HEAD');
    const unknown = await http.delete('/api/v1/nothing-here').set(AUTH).expect(404);
    assert.equal(unknown.body.error.code, 'not_found');
    const root = await http.get('/').expect(302);
    assert.equal(root.headers.location, '/admin');
  });

  test('every built-in type: an example without timestamp validates against the published schema and is accepted', async () => {
    const { body } = await http.get('/api/v1/event-types').expect(200);
    const published = new Map((body.eventTypes as { type: string; schema: Record<string, unknown> }[]).map((t) => [t.type, t.schema]));
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    for (const type of EVENT_TYPES) {
      const schema = published.get(type);
      assert.ok(schema, type);
      assert.ok(!((schema.required as string[]) ?? []).includes('timestamp'), `${type}: timestamp is filled in by the server`);
      const data = exampleEvents[type];
      assert.ok(!('timestamp' in data));
      assert.ok(ajv.validate(schema, data), `${type}: ${ajv.errorsText()}`);
      const res = await http.post('/api/v1/events').set(AUTH).send({ type, data });
      assert.equal(res.status, 202, `${type}: ${JSON.stringify(res.body)}`);
      assert.match(res.body.data.timestamp, /^\d{4}-\d\d-\d\dT/);
    }
  });

  test('OpenAPI: API-key bearer format, the event path as /api/v1/events/{id}', async () => {
    const { body } = await http.get('/docs-json').expect(200);
    assert.equal(body.components.securitySchemes.bearer.bearerFormat, 'API key (hk_…)');
    assert.ok(body.paths['/api/v1/events/{id}']?.get, Object.keys(body.paths).join(' '));
    assert.ok(!Object.keys(body.paths).some((p) => p.includes('evt_')));
    assert.ok(
      body.paths['/api/v1/events/{id}'].get.parameters.some((p: { name: string; in: string }) => p.name === 'id' && p.in === 'path'),
    );
  });
});
