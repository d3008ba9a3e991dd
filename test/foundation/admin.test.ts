import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { exampleEvents } from '../../src/events/catalog.js';
import { ADMIN_TOKEN, BOOTSTRAP_KEY, createOrg, startTestApp, type TestApp } from '../support/launcher.js';

describe('organizations, API keys and the audit log', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(() => app.close());

  test('BOOTSTRAP_API_KEY works for org_default', async () => {
    const r = await app.http
      .post('/api/v1/events')
      .set('Authorization', `Bearer ${BOOTSTRAP_KEY}`)
      .send({ type: 'companion.activated', data: exampleEvents['companion.activated'] })
      .expect(202);
    assert.equal(r.body.organizationId, 'org_default');
  });

  test('admin routes need the admin token; API keys are not admin tokens', async () => {
    await app.http.get('/api/v1/admin/organizations').expect(401);
    await app.http.get('/api/v1/admin/organizations').set('Authorization', `Bearer ${BOOTSTRAP_KEY}`).expect(401);
    const list = await app.http.get('/api/v1/admin/organizations').set('Authorization', `Bearer ${ADMIN_TOKEN}`).expect(200);
    assert.ok(list.body.organizations.some((o: { id: string }) => o.id === 'org_default'));
    const bad = await app.http
      .post('/api/v1/admin/organizations')
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .send({ name: 42 })
      .expect(400);
    assert.equal(bad.body.error.details[0].field, 'name');
  });

  test('a revoked key stops working; revoking is audited without the key', async () => {
    const org = await createOrg(app);
    const extra = await app.http
      .post(`/api/v1/admin/organizations/${org.id}/api-keys`)
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .send({ name: 'temp' })
      .expect(201);
    assert.match(extra.body.key, /^hk_/);
    await app.http.get('/api/v1/events/history').set('Authorization', `Bearer ${extra.body.key}`).expect(200);
    await app.http
      .delete(`/api/v1/admin/organizations/${org.id}/api-keys/${extra.body.id}`)
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .expect(204);
    // the key cache lives 5 s at most
    const deadline = Date.now() + 7000;
    let status = 200;
    while (Date.now() < deadline && status !== 401) {
      status = (await app.http.get('/api/v1/events/history').set('Authorization', `Bearer ${extra.body.key}`)).status;
      if (status !== 401) await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(status, 401);
    await app.http
      .delete(`/api/v1/admin/organizations/${org.id}/api-keys/${extra.body.id}`)
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .expect(404);
    const audit = await app.http.get('/api/v1/audit-log').set(org.auth).expect(200);
    const actions = audit.body.entries.map((e: { action: string }) => e.action);
    assert.deepEqual(actions.slice(0, 2), ['api_key.revoked', 'api_key.created']);
    assert.ok(!JSON.stringify(audit.body).includes(extra.body.key));
    const other = await createOrg(app);
    const otherAudit = await app.http.get('/api/v1/audit-log').set(other.auth).expect(200);
    assert.ok(otherAudit.body.entries.every((e: { organizationId: string }) => e.organizationId === other.id));
  });
});
