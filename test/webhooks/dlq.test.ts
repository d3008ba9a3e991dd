import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DataSource } from 'typeorm';
import { DlqEntry } from '../../src/delivery/dlq-entry.entity.js';
import { createOrg, databases, startTestApp, type TestApp } from '../support/launcher.js';
import { Receiver } from '../support/receiver.js';
import { waitFor } from '../support/time.js';
import { arrived, deliveriesOf, dlqOf, hookFor, publish, until, type Hook } from './fixtures.js';

for (const db of databases()) {
  describe(`dead letter queue (${db})`, () => {
    let app: TestApp;
    let rx: Receiver;
    let hook: Hook;
    let other: Hook;
    let failing = true;
    before(async () => {
      app = await startTestApp({ db, env: { DLQ_PURGE_INTERVAL_MS: '300' } });
      rx = await Receiver.start();
      hook = await hookFor(app, rx.url, { events: ['message.*', 'chat.*'] });
      other = await hookFor(app, rx.url, { events: ['message.*'] }, hook.org);
      for (const h of [hook, other]) rx.on(h.path, () => (failing ? { status: 422, body: 'nope' } : { status: 200 }));
      await publish(app, hook.org, 'message.sent');
      await publish(app, hook.org, 'chat.started');
      await publish(app, hook.org, 'message.received');
      await until(async () => ((await dlqOf(app, hook)).length === 3 && (await dlqOf(app, other)).length === 2 ? true : null));
    });
    after(async () => {
      await app.close();
      await rx.close();
    });

    const list = async (query: string, h = hook) => (await app.http.get(`/api/v1/dlq${query}`).set(h.org.auth).expect(200)).body;

    test('list: FailedWebhook records, newest first, filtered by webhook, event type and time, paginated', async () => {
      const all = await list('');
      assert.equal(all.failedWebhooks.length, 5);
      for (const f of all.failedWebhooks) {
        for (const k of ['id', 'originalWebhook', 'event', 'attempts', 'failureReason', 'createdAt', 'lastAttempt']) assert.ok(k in f, k);
        assert.match(f.id, /^dlq_/);
      }
      const ids = all.failedWebhooks.map((f: { id: string }) => f.id);
      assert.deepEqual([...ids].sort().reverse(), ids);
      assert.equal((await list(`?webhookId=${hook.id}&eventType=chat.started`)).failedWebhooks.length, 1);
      assert.equal((await list('?eventType=message.sent')).failedWebhooks.length, 2);
      assert.equal((await list(`?from=${new Date(Date.now() + 60_000).toISOString()}`)).failedWebhooks.length, 0);
      assert.equal((await list(`?to=${new Date(Date.now() + 60_000).toISOString()}`)).failedWebhooks.length, 5);
      const p1 = await list('?limit=2');
      const p2 = await list(`?limit=2&cursor=${p1.nextCursor}`);
      const p3 = await list(`?limit=2&cursor=${p2.nextCursor}`);
      assert.deepEqual(
        [...p1.failedWebhooks, ...p2.failedWebhooks, ...p3.failedWebhooks].map((f: { id: string }) => f.id),
        ids,
      );
      assert.equal(p3.nextCursor, null);
      await app.http.get('/api/v1/dlq?from=yesterday').set(hook.org.auth).expect(400);
    });

    test('tenancy: another organization sees none of it and cannot retry or purge it', async () => {
      const stranger = await createOrg(app);
      const seen = await app.http.get('/api/v1/dlq').set(stranger.auth).expect(200);
      assert.equal(seen.body.failedWebhooks.length, 0);
      const [entry] = await dlqOf(app, hook);
      await app.http.post(`/api/v1/dlq/${entry.id}/retry`).set(stranger.auth).expect(404);
      const bulk = await app.http.post('/api/v1/dlq/retry').set(stranger.auth).send({}).expect(202);
      assert.equal(bulk.body.retried, 0);
      const purged = await app.http
        .delete(`/api/v1/dlq?olderThan=${new Date(Date.now() + 60_000).toISOString()}`)
        .set(stranger.auth)
        .expect(200);
      assert.equal(purged.body.purged, 0);
      assert.equal((await list('')).failedWebhooks.length, 5);
    });

    test('retry one: a new delivery that arrives; the entry leaves the DLQ; audited', async () => {
      failing = false;
      const [entry] = await dlqOf(app, hook);
      const before = rx.at(hook.path).length;
      const res = await app.http.post(`/api/v1/dlq/${entry.id}/retry`).set(hook.org.auth).expect(202);
      assert.match(res.body.deliveryId, /^del_/);
      const got = await arrived(rx, hook.path, before + 1);
      const last = got[got.length - 1];
      assert.equal(last.headers['x-humana-delivery'], res.body.deliveryId);
      assert.equal(last.headers['webhook-id'], (entry.event as { id: string }).id);
      assert.equal((await dlqOf(app, hook)).length, 2);
      await waitFor(async () =>
        (await deliveriesOf(app, hook, '?status=success')).some((d) => d.id === res.body.deliveryId && d.kind === 'dlq_retry'),
      );
      await app.http.post(`/api/v1/dlq/${entry.id}/retry`).set(hook.org.auth).expect(404);
      const audit = await app.http.get('/api/v1/audit-log?action=dlq.retried').set(hook.org.auth).expect(200);
      assert.equal(audit.body.entries[0].resourceId, entry.id);
    });

    test('bulk retry by filter: only the matching entries', async () => {
      const before = rx.at(other.path).length;
      const res = await app.http.post('/api/v1/dlq/retry').set(hook.org.auth).send({ webhookId: other.id }).expect(202);
      assert.equal(res.body.retried, 2);
      await arrived(rx, other.path, before + 2);
      assert.equal((await dlqOf(app, other)).length, 0);
      assert.equal((await dlqOf(app, hook)).length, 2, 'the other webhook’s entries stay');
      await app.http.post('/api/v1/dlq/retry').set(hook.org.auth).send({ webhookId: 5 }).expect(400);
    });

    test('purge olderThan, then the scheduled purge removes entries past DLQ_RETENTION_DAYS', async () => {
      const keep = await app.http
        .delete(`/api/v1/dlq?olderThan=${new Date(Date.now() - 3600_000).toISOString()}`)
        .set(hook.org.auth)
        .expect(200);
      assert.equal(keep.body.purged, 0);
      await app.http.delete('/api/v1/dlq').set(hook.org.auth).expect(400);
      const ds = app.running.app.get(DataSource);
      const [entry] = await dlqOf(app, hook);
      const old = new Date(Date.now() - 40 * 24 * 3600_000).toISOString();
      await ds
        .getRepository(DlqEntry)
        .save({ ...(await ds.getRepository(DlqEntry).findOneByOrFail({ id: entry.id })), id: 'dlq_OLD', createdAt: old, lastAttempt: old });
      await waitFor(async () => !(await ds.getRepository(DlqEntry).findOneBy({ id: 'dlq_OLD' })), 5000);
      assert.equal((await dlqOf(app, hook)).length, 2, 'recent entries stay');
      const res = await app.http
        .delete(`/api/v1/dlq?olderThan=${new Date(Date.now() + 1000).toISOString()}`)
        .set(hook.org.auth)
        .expect(200);
      assert.equal(res.body.purged, 2);
      assert.equal((await list('')).failedWebhooks.length, 0);
      const audit = await app.http.get('/api/v1/audit-log?action=dlq.purged').set(hook.org.auth).expect(200);
      assert.deepEqual(
        audit.body.entries.map((e: { after: { purged: number } }) => e.after.purged),
        [2, 0],
      );
    });
  });
}
