import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DeliverySummary } from '../../src/delivery/deliveries.service.js';
import { ADMIN_TOKEN, createOrg, databases, startTestApp, type TestApp, type TestOrg } from '../support/launcher.js';
import { Receiver } from '../support/receiver.js';
import { waitFor } from '../support/time.js';
import { hookFor, publish } from '../webhooks/fixtures.js';

async function eventDeliveries(app: TestApp, org: TestOrg, eventId: string): Promise<DeliverySummary[]> {
  const res = await app.http.get(`/api/v1/events/${eventId}/deliveries`).set(org.auth).expect(200);
  assert.equal(res.body.nextCursor, null);
  return res.body.deliveries;
}

for (const db of databases()) {
  describe(`GET /api/v1/events/{id}/deliveries (${db})`, () => {
    let app: TestApp;
    let rx: Receiver;
    before(async () => {
      app = await startTestApp({ db });
      rx = await Receiver.start();
    });
    after(async () => {
      await app.close();
      await rx.close();
    });

    test("every delivery of the event across the organization's webhooks, newest first, each with its webhook and status", async () => {
      const ok = await hookFor(app, rx.url, { events: ['message.sent'] });
      const rejecting = await hookFor(
        app,
        rx.url,
        { events: ['message.*'], retry: { maxAttempts: 1, backoffMultiplier: 2, maxDelay: 300 } },
        ok.org,
      );
      const other = await hookFor(app, rx.url, { events: ['companion.created'] }, ok.org);
      rx.on(rejecting.path, () => ({ status: 400, body: 'no' }));
      const event = await publish(app, ok.org, 'message.sent');
      const quiet = await publish(app, ok.org, 'chat.ended');

      const finished = (l: DeliverySummary[]) => l.length === 2 && l.every((d) => d.status === 'success' || d.status === 'failed');
      await waitFor(async () => finished(await eventDeliveries(app, ok.org, event.id)), 15_000);
      const list = await eventDeliveries(app, ok.org, event.id);
      assert.deepEqual(
        list.map((d) => d.id),
        list
          .map((d) => d.id)
          .sort()
          .reverse(),
        'newest first',
      );
      const byHook = new Map(list.map((d) => [d.webhookId, d]));
      assert.deepEqual([...byHook.keys()].sort(), [ok.id, rejecting.id].sort());
      const good = byHook.get(ok.id)!;
      assert.deepEqual(
        { status: good.status, statusCode: good.statusCode, attempts: good.attempts, eventId: good.eventId, event: good.event },
        { status: 'success', statusCode: 200, attempts: 1, eventId: event.id, event: 'message.sent' },
      );
      assert.equal(good.url, `${rx.url}${ok.path}`);
      const bad = byHook.get(rejecting.id)!;
      assert.deepEqual(
        { status: bad.status, statusCode: bad.statusCode, attempts: bad.attempts, error: bad.error },
        { status: 'failed', statusCode: 400, attempts: 1, error: 'HTTP 400' },
      );
      assert.ok(!list.some((d) => d.webhookId === other.id));

      // The same rows as each webhook's own delivery list.
      const fromHook = await app.http.get(`/api/v1/webhooks/${ok.id}/deliveries`).set(ok.org.auth).expect(200);
      assert.deepEqual(
        fromHook.body.deliveries.find((d: DeliverySummary) => d.eventId === event.id),
        good,
      );

      // An event of this organization that no webhook matched: an empty list, not a 404.
      assert.deepEqual(await eventDeliveries(app, ok.org, quiet.id), []);

      // Paging: one per page, the cursor leads to the other one.
      const first = await app.http.get(`/api/v1/events/${event.id}/deliveries?limit=1`).set(ok.org.auth).expect(200);
      assert.deepEqual(
        first.body.deliveries.map((d: DeliverySummary) => d.id),
        [list[0].id],
      );
      const second = await app.http
        .get(`/api/v1/events/${event.id}/deliveries?limit=1&cursor=${first.body.nextCursor}`)
        .set(ok.org.auth)
        .expect(200);
      assert.deepEqual(
        second.body.deliveries.map((d: DeliverySummary) => d.id),
        [list[1].id],
      );
      assert.equal(second.body.nextCursor, null);

      // Another organization's key: the event does not exist for it.
      const stranger = await createOrg(app);
      const foreign = await app.http.get(`/api/v1/events/${event.id}/deliveries`).set(stranger.auth).expect(404);
      assert.equal(foreign.body.error?.code ?? foreign.body.code, 'not_found', JSON.stringify(foreign.body));
      await app.http.get('/api/v1/events/evt_00000000000000000000000000/deliveries').set(ok.org.auth).expect(404);

      // The delivery log is webhook data: `webhooks:read`, not `events:read`.
      const limited = await app.http
        .post(`/api/v1/admin/organizations/${ok.org.id}/api-keys`)
        .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
        .send({ name: 'events only', scopes: ['events:read'] })
        .expect(201);
      await app.http.get(`/api/v1/events/${event.id}/deliveries`).set('Authorization', `Bearer ${limited.body.key}`).expect(403);
      await app.http.get(`/api/v1/events/${event.id}/deliveries?limit=0`).set(ok.org.auth).expect(400);
    });
  });
}
