import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../support/launcher.js';
import { arrived, deliveriesOf, dlqOf, hookFor, publish, until, type Hook } from '../webhooks/fixtures.js';
import { Receiver } from '../support/receiver.js';

describe('DLQ retry and replay to a disabled webhook are refused, never lost', () => {
  let app: TestApp;
  let rx: Receiver;
  let off: Hook;
  let on: Hook;
  let failing = true;
  before(async () => {
    app = await startTestApp();
    rx = await Receiver.start();
    off = await hookFor(app, rx.url, { events: ['message.*'] });
    on = await hookFor(app, rx.url, { events: ['message.*'] }, off.org);
    for (const h of [off, on]) rx.on(h.path, () => (failing ? { status: 422, body: 'nope' } : { status: 200, body: 'ok' }));
    await publish(app, off.org, 'message.sent');
    await until(async () => ((await dlqOf(app, off)).length === 1 && (await dlqOf(app, on)).length === 1 ? true : null));
    failing = false;
    await app.http.patch(`/api/v1/webhooks/${off.id}`).set(off.org.auth).send({ enabled: false }).expect(200);
  });
  after(async () => {
    await app.close();
    await rx.close();
  });

  test('single retry → 409 webhook_disabled, the entry stays and the list says why', async () => {
    const [entry] = await dlqOf(app, off);
    const res = await app.http.post(`/api/v1/dlq/${entry.id}/retry`).set(off.org.auth);
    assert.equal(res.status, 409, JSON.stringify(res.body));
    assert.equal(res.body.error.code, 'webhook_disabled');
    assert.match(res.body.error.message, new RegExp(off.id));
    const [still] = await dlqOf(app, off);
    assert.equal(still?.id, entry.id, 'the DLQ entry is kept');
    assert.equal(still.webhookEnabled, false);
    assert.equal(still.retryBlockedReason, 'webhook_disabled');
    const [ok] = await dlqOf(app, on);
    assert.equal(ok.webhookEnabled, true);
    assert.equal(ok.retryBlockedReason, null);
  });

  test('delivery replay and range replay → 409 webhook_disabled, no new delivery is created', async () => {
    const before = await deliveriesOf(app, off);
    assert.equal(before.length, 1);
    const one = await app.http.post(`/api/v1/webhooks/${off.id}/deliveries/${before[0].id}/replay`).set(off.org.auth);
    assert.equal(one.status, 409, JSON.stringify(one.body));
    assert.equal(one.body.error.code, 'webhook_disabled');
    const range = { from: new Date(Date.now() - 60_000).toISOString(), to: new Date().toISOString() };
    const many = await app.http.post(`/api/v1/webhooks/${off.id}/replay`).set(off.org.auth).send(range);
    assert.equal(many.status, 409, JSON.stringify(many.body));
    assert.equal(many.body.error.code, 'webhook_disabled');
    assert.deepEqual(
      (await deliveriesOf(app, off)).map((d) => d.id),
      before.map((d) => d.id),
    );
  });

  test('bulk retry retries the enabled webhook’s entries and skips (and reports) the disabled one’s', async () => {
    const [blocked] = await dlqOf(app, off);
    const res = await app.http.post('/api/v1/dlq/retry').set(off.org.auth).send({}).expect(202);
    assert.equal(res.body.retried, 1);
    assert.equal(res.body.skipped, 1);
    assert.deepEqual(res.body.skippedEntries, [{ id: blocked.id, webhookId: off.id, reason: 'webhook_disabled' }]);
    assert.equal(res.body.deliveryIds.length, 1);
    await arrived(rx, on.path, 2);
    assert.deepEqual(
      (await dlqOf(app, off)).map((e) => e.id),
      [blocked.id],
    );
    assert.equal((await dlqOf(app, on)).length, 0);
  });

  test('once enabled again, the kept entry retries and is delivered', async () => {
    const [entry] = await dlqOf(app, off);
    await app.http.patch(`/api/v1/webhooks/${off.id}`).set(off.org.auth).send({ enabled: true }).expect(200);
    await app.http.post(`/api/v1/dlq/${entry.id}/retry`).set(off.org.auth).expect(202);
    const got = await arrived(rx, off.path, 2);
    assert.equal(got[1].headers['x-humana-event'], 'message.sent');
    assert.equal((await dlqOf(app, off)).length, 0);
  });
});
