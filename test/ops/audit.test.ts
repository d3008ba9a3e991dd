import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AuditEntry } from '../../src/audit/audit-entry.entity.js';
import { startTestApp, type TestApp } from '../support/launcher.js';
import { Receiver } from '../support/receiver.js';
import { waitFor } from '../support/time.js';
import { dlqOf, hookFor, deliveryIn } from '../webhooks/fixtures.js';
import { ADMIN, sampleEvent } from './helpers.js';

/** Item 7 of the operations issue: every management action is in the organization's append-only audit log. */
describe('compliance audit log', () => {
  let app: TestApp;
  let rx: Receiver;
  before(async () => {
    app = await startTestApp();
    rx = await Receiver.start();
  });
  after(async () => {
    await app.close();
    await rx.close();
  });

  test('webhook, key, DLQ, replay and limit actions recorded with actor, time and before/after, never a secret', async () => {
    const started = new Date().toISOString();
    const hook = await hookFor(app, rx.url, { events: ['companion.activated'], retry: { maxAttempts: 1 } });
    const { org } = hook;
    const keyId = (await app.http.get('/api/v1/audit-log').set(org.auth).expect(200)).body.entries[0].actor as string;
    rx.on(hook.path, () => ({ status: 500 }));
    await app.http.patch(`/api/v1/webhooks/${hook.id}`).set(org.auth).send({ description: 'renamed' }).expect(200);
    await app.http.post('/api/v1/events').set(org.auth).send(sampleEvent()).expect(202);
    const [dead] = (await waitFor(async () => {
      const entries = await dlqOf(app, hook);
      return entries.length ? entries : null;
    })) as { id: string }[];
    const failed = await deliveryIn(app, hook, 'failed');
    await app.http.post(`/api/v1/dlq/${dead.id}/retry`).set(org.auth).expect(202);
    await app.http.post('/api/v1/dlq/retry').set(org.auth).send({ webhookId: hook.id }).expect(202);
    await app.http.post(`/api/v1/webhooks/${hook.id}/deliveries/${failed.id}/replay`).set(org.auth).expect(202);
    await app.http
      .post(`/api/v1/webhooks/${hook.id}/replay`)
      .set(org.auth)
      .send({ from: started, to: new Date().toISOString() })
      .expect(202);
    await app.http
      .delete(`/api/v1/dlq?olderThan=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)
      .set(org.auth)
      .expect(200);
    const key = await app.http.post(`/api/v1/admin/organizations/${org.id}/api-keys`).set(ADMIN).send({ name: 'ci' }).expect(201);
    await app.http.delete(`/api/v1/admin/organizations/${org.id}/api-keys/${key.body.id}`).set(ADMIN).expect(204);
    await app.http.patch(`/api/v1/admin/organizations/${org.id}/limits`).set(ADMIN).send({ eventsPerMonth: 1000 }).expect(200);
    await app.http.delete(`/api/v1/webhooks/${hook.id}`).set(org.auth).expect(204);

    const res = await app.http.get('/api/v1/audit-log?limit=100').set(org.auth).expect(200);
    const entries = (res.body.entries as AuditEntry[]).reverse();
    const byAction = (action: string) => entries.filter((e) => e.action === action);
    assert.deepEqual(
      entries.map((e) => e.action),
      [
        'api_key.created', // createOrg's key
        'webhook.created',
        'webhook.updated',
        'dlq.retried',
        'dlq.retried',
        'delivery.replayed',
        'webhook.replayed',
        'dlq.purged',
        'api_key.created',
        'api_key.revoked',
        'organization.limits_updated',
        'webhook.deleted',
      ],
    );
    for (const e of entries) {
      assert.equal(e.organizationId, org.id);
      assert.ok(e.timestamp >= started || e.action === 'api_key.created', `${e.action} timestamp`);
      assert.equal(e.actor, e.action.startsWith('api_key') || e.action.startsWith('organization') ? 'admin' : keyId, `${e.action} actor`);
    }
    const [updated] = byAction('webhook.updated');
    assert.equal(updated.resourceId, hook.id);
    assert.equal(updated.before?.description, '');
    assert.equal(updated.after?.description, 'renamed');
    assert.equal(byAction('webhook.deleted')[0].before?.id, hook.id);
    assert.equal(byAction('dlq.retried')[0].resourceId, dead.id);
    assert.equal(byAction('api_key.revoked')[0].resourceId, key.body.id);
    assert.deepEqual(byAction('organization.limits_updated')[0].after, { eventsPerMonth: 1000 });
    assert.ok(!JSON.stringify(res.body).includes(hook.secret), 'no webhook secret in the audit log');
    assert.ok(!JSON.stringify(res.body).includes(key.body.key), 'no API key in the audit log');
  });
});
