import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DataSource } from 'typeorm';
import { BOOTSTRAP_KEY, createOrg, startTestApp, type TestApp, type TestOrg } from '../support/launcher.js';

const SECRET_BITS = ['s3cret-header-value', 'hunter2', 'tok-123', 'sig=abc'];

describe('audit log: its own scope, receivers’ credentials masked', () => {
  let app: TestApp;
  let org: TestOrg;
  before(async () => {
    app = await startTestApp({ env: { ROLE: 'api' } });
    org = await createOrg(app);
  });
  after(() => app.close());

  test('a streams:read (browser) key and a webhooks:read key get 403; audit:read, all-scopes and bootstrap keys read it', async () => {
    for (const scopes of [['streams:read'], ['webhooks:read', 'events:read']]) {
      const limited = await createOrg(app, undefined, scopes);
      const res = await app.http.get('/api/v1/audit-log').set(limited.auth);
      assert.equal(res.status, 403, `${scopes.join(',')} → ${res.status}`);
      assert.equal(res.body.error.code, 'forbidden');
      assert.match(res.body.error.message, /audit:read/);
      assert.ok(Array.isArray(res.body.error.details));
    }
    const auditor = await createOrg(app, undefined, ['audit:read']);
    await app.http.get('/api/v1/audit-log').set(auditor.auth).expect(200);
    await app.http.get('/api/v1/audit-log').set(org.auth).expect(200);
    await app.http.get('/api/v1/audit-log').set('Authorization', `Bearer ${BOOTSTRAP_KEY}`).expect(200);
  });

  test('webhook snapshots (before and after) keep host, path and header names, never header values, userinfo or query', async () => {
    const { body: w } = await app.http
      .post('/api/v1/webhooks')
      .set(org.auth)
      .send({
        url: 'https://bob:hunter2@hooks.example.com/in/orders?token=tok-123',
        events: ['*'],
        headers: { Authorization: 'Bearer s3cret-header-value' },
      })
      .expect(201);
    await app.http
      .patch(`/api/v1/webhooks/${w.id}`)
      .set(org.auth)
      .send({ url: 'https://hooks.example.com/in/v2?sig=abc#frag' })
      .expect(200);
    await app.http.delete(`/api/v1/webhooks/${w.id}`).set(org.auth).expect(204);

    const { body } = await app.http.get('/api/v1/audit-log').set(org.auth).expect(200);
    const raw = JSON.stringify(body);
    for (const bit of SECRET_BITS) assert.ok(!raw.includes(bit), `audit log leaks ${bit}`);
    const of = (action: string) =>
      body.entries.find((e: { action: string; resourceId: string }) => e.action === action && e.resourceId === w.id);
    const created = of('webhook.created');
    assert.equal(created.after.url, 'https://***:***@hooks.example.com/in/orders?***');
    assert.deepEqual(created.after.headers, { Authorization: '***' });
    const updated = of('webhook.updated');
    assert.equal(updated.before.url, 'https://***:***@hooks.example.com/in/orders?***');
    assert.equal(updated.after.url, 'https://hooks.example.com/in/v2?***#***');
    assert.deepEqual(updated.before.headers, { Authorization: '***' });
    assert.equal(of('webhook.deleted').before.url, 'https://hooks.example.com/in/v2?***#***');

    // what the webhook itself shows its owner is unchanged (it needs its own configuration back)
    const { body: w2 } = await app.http
      .post('/api/v1/webhooks')
      .set(org.auth)
      .send({ url: 'https://hooks.example.com/plain', events: ['*'], headers: { 'X-Team': 'blue' } })
      .expect(201);
    const got = await app.http.get(`/api/v1/webhooks/${w2.id}`).set(org.auth).expect(200);
    assert.deepEqual(got.body.headers, { 'X-Team': 'blue' });
  });
});

describe('audit:read migration', () => {
  test('a key stored with every pre-existing scope (e.g. BOOTSTRAP_API_KEY from an older version) gains audit:read', async () => {
    const first = await startTestApp();
    await first.stop();
    const file = first.databaseUrl.slice('sqlite:'.length);
    const db = await new DataSource({ type: 'better-sqlite3', database: file }).initialize();
    const old = ['events:write', 'events:read', 'streams:read', 'webhooks:read', 'webhooks:write', 'dlq:manage'];
    await db.query('UPDATE api_keys SET scopes = ?', [JSON.stringify(old)]);
    await db.query("DELETE FROM migrations WHERE name = 'AuditScope1764375100000'");
    await db.destroy();
    const second = await startTestApp({ redis: first.redis, databaseUrl: first.databaseUrl });
    try {
      await second.http.get('/api/v1/audit-log').set('Authorization', `Bearer ${BOOTSTRAP_KEY}`).expect(200);
    } finally {
      await second.stop();
      await first.close();
    }
  });
});
