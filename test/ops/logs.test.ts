import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { ADMIN_TOKEN, BOOTSTRAP_KEY, createTestDatabase, spawnApp, type AppProcess, type TestDatabase } from '../support/launcher.js';
import { Receiver } from '../support/receiver.js';
import { startPrivateRedis, type PrivateRedis } from '../support/redis.js';
import { waitFor } from '../support/time.js';
import { SseClient } from '../realtime/clients.js';
import { ADMIN, sampleEvent } from './helpers.js';

/** The whole app as `npm start` runs it, at debug level, its stdout searched for every credential it handled. */
describe('structured logs', () => {
  let redis: PrivateRedis;
  let db: TestDatabase;
  let app: AppProcess;
  let rx: Receiver;
  before(async () => {
    rx = await Receiver.start();
    redis = await startPrivateRedis();
    db = createTestDatabase('sqlite');
    app = await spawnApp({ REDIS_URL: redis.url, DATABASE_URL: db.url, LOG_LEVEL: 'debug' });
  });
  after(async () => {
    await app?.kill('SIGKILL');
    await rx?.close();
    await redis?.destroy();
    await db?.drop();
  });

  test('JSON lines with request, event and trace ids; no API key, admin token or other secret ever logged', async () => {
    const http = request(app.url);
    const org = await http.post('/api/v1/admin/organizations').set(ADMIN).send({ name: 'logs' }).expect(201);
    const created = await http.post(`/api/v1/admin/organizations/${org.body.id}/api-keys`).set(ADMIN).send({ name: 'k' }).expect(201);
    const key: string = created.body.key;
    const spare = await http.post(`/api/v1/admin/organizations/${org.body.id}/api-keys`).set(ADMIN).send({ name: 'spare' }).expect(201);
    await http.delete(`/api/v1/admin/organizations/${org.body.id}/api-keys/${spare.body.id}`).set(ADMIN).expect(204);
    const auth = { Authorization: `Bearer ${key}` };
    const published = await http
      .post('/api/v1/events')
      .set(auth)
      .set('Idempotency-Key', 'idem-secretless-1')
      .send(sampleEvent())
      .expect(202);
    await http.post('/api/v1/events').set('Authorization', `Bearer ${BOOTSTRAP_KEY}`).send(sampleEvent()).expect(202);
    await http.post('/api/v1/events').set('Authorization', `Bearer ${spare.body.key}`).send(sampleEvent()).expect(401);
    await http.get(`/api/v1/events/history?access_token=${key}`).expect(401);
    await http
      .get('/metrics')
      .set('Authorization', `Basic ${Buffer.from(`prom:${ADMIN_TOKEN}`).toString('base64')}`)
      .expect(200);
    await http.get('/metrics').set('Authorization', `Bearer ${key}`).expect(401);
    await http.patch(`/api/v1/admin/organizations/${org.body.id}/limits`).set(ADMIN).send({ eventsPerMinute: 1 }).expect(200);
    await http.post('/api/v1/events').set(auth).send(sampleEvent()).expect(202);
    await http.post('/api/v1/events').set(auth).send(sampleEvent()).expect(429);
    const plainSecret = 'my-very-own-webhook-secret-0123';
    const custom = await http
      .post('/api/v1/webhooks')
      .set(auth)
      .send({ url: `${rx.url}/custom`, events: ['*'], secret: plainSecret, headers: { 'X-Api-Key': 'receiver-key-0123456789' } })
      .expect(201);
    const generated = await http
      .post('/api/v1/webhooks')
      .set(auth)
      .send({ url: `${rx.url}/gen?token=query-secret-0123`, events: ['*'] })
      .expect(201);
    await http.get(`/api/v1/webhooks/${generated.body.id}/secret`).set(auth).expect(200);
    await http.post(`/api/v1/webhooks/${custom.body.id}/test`).set(auth).expect(200);
    await http.patch(`/api/v1/admin/organizations/${org.body.id}/limits`).set(ADMIN).send({}).expect(200);
    const delivered = await http.post('/api/v1/events').set(auth).send(sampleEvent()).expect(202);
    await waitFor(() => rx.at('/gen').length >= 1 && rx.at('/custom').some((r) => r.body.includes(delivered.body.id)));
    const sse = new SseClient(`${app.url}/api/v1/events/stream?access_token=${key}`);
    await sse.opened;
    sse.close();
    await waitFor(() => app.lines.some((l) => l.includes('/api/v1/events/stream')));
    await app.kill('SIGTERM');

    const lines = app.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(lines.length > 20);
    for (const l of lines) {
      assert.equal(typeof l.level, 'string');
      assert.equal(typeof l.time, 'string');
      assert.equal(typeof l.msg, 'string');
    }
    const publishLog = lines.find((l) => l.msg === 'event published' && l.eventId === published.body.id);
    assert.ok(publishLog, 'the published event is logged with its id');
    assert.equal(publishLog.organizationId, org.body.id);
    assert.match(String(publishLog.traceId), /^[0-9a-f]{32}$/);
    const delivery = lines.find((l) => l.msg === 'delivery success' && l.eventId === delivered.body.id);
    assert.ok(delivery, 'each delivery is logged with its ids');
    assert.match(String(delivery.deliveryId), /^del_/);
    assert.equal(delivery.organizationId, org.body.id);
    const requests = lines.filter((l) => l.msg === 'request');
    assert.ok(requests.some((l) => l.statusCode === 429 && l.keyId === created.body.id));
    assert.ok(requests.every((l) => typeof l.requestId === 'string' && typeof l.durationMs === 'number'));
    assert.ok(requests.some((l) => String(l.url).startsWith('/api/v1/events/stream?access_token=[redacted]')));

    const everything = app.lines.join('\n') + app.stderr.join('');
    const secrets = [key, spare.body.key, BOOTSTRAP_KEY, ADMIN_TOKEN, Buffer.from(`prom:${ADMIN_TOKEN}`).toString('base64')];
    secrets.push(plainSecret, generated.body.secret, 'receiver-key-0123456789', 'query-secret-0123');
    for (const secret of secrets) {
      assert.ok(!everything.includes(secret), `a secret reached the logs: ${secret.slice(0, 6)}…`);
    }
  });
});
