import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import amqp from 'amqplib';
import { createOrg, startTestApp, type TestApp } from '../support/launcher.js';
import { waitFor } from '../support/time.js';
import { deliveryIn, dlqOf, publish } from '../webhooks/fixtures.js';
import { assertSignedMessage, destinationHook, SHORT_RETRY, unique } from './support.js';

const BROKER = 'amqp://guest:guest@127.0.0.1:5672';

let app: TestApp;
let conn: amqp.ChannelModel;
let ch: amqp.Channel;
const exchange = unique('humana-test-x');
const received: amqp.ConsumeMessage[] = [];
let queue: string;

before(async () => {
  app = await startTestApp();
  conn = await amqp.connect(BROKER);
  ch = await conn.createChannel();
  await ch.assertExchange(exchange, 'topic', { autoDelete: true });
  queue = (await ch.assertQueue('', { exclusive: true })).queue;
  await ch.bindQueue(queue, exchange, 'message.#');
  await ch.bindQueue(queue, exchange, 'chat.#');
  await ch.consume(queue, (m) => m && received.push(m), { noAck: true });
});
after(async () => {
  await conn.close();
  await app.close();
});

describe('amqp destination', () => {
  test('publishes the signed envelope with a placeholder routing key, persistent, messageId = event id', async () => {
    const org = await createOrg(app);
    const hook = await destinationHook(app, org, `${BROKER}/?exchange=${exchange}&routingKey={type}.{data.companionId}`, {
      events: ['message.sent'],
    });
    const ev = await publish(app, org, 'message.sent', { companionId: 'comp.1 x' });
    const m = (await waitFor(() => received.find((r) => r.properties.messageId === ev.id)))!;
    assert.equal(m.fields.routingKey, 'message.sent.comp.1_x', 'rendered values are sanitized (dots stay, spaces become _)');
    assert.equal(m.properties.deliveryMode, 2);
    assert.equal(m.properties.contentType, 'application/json');
    const body = m.content.toString();
    assert.deepEqual(JSON.parse(body), ev);
    assertSignedMessage(m.properties.headers ?? {}, body, hook.secret, { eventId: ev.id, eventType: 'message.sent' });
    const d = await deliveryIn(app, hook, 'success');
    assert.equal(d.statusCode, 200);
    assert.match(d.attemptHistory[0].responseBody, /confirmed by the broker/);
  });

  test('credentials are masked in reads, the delivery log, the DLQ and the audit log; a PUT of the masked URL keeps them', async () => {
    const org = await createOrg(app);
    const url = `amqp://guest:guest@127.0.0.1:5672/?exchange=${exchange}&routingKey=chat.{data.sessionId}`;
    const hook = await destinationHook(app, org, url, { events: ['chat.started'] });
    const view = (await app.http.get(`/api/v1/webhooks/${hook.id}`).set(org.auth).expect(200)).body;
    assert.equal(view.url, `amqp://guest:***@127.0.0.1:5672/?exchange=${exchange}&routingKey=chat.{data.sessionId}`);
    assert.equal(view.transport, 'amqp');
    const list = (await app.http.get('/api/v1/webhooks').set(org.auth).expect(200)).body.webhooks;
    assert.equal(list[0].url, view.url);
    // PUT back what was read: the stored password is kept, deliveries still authenticate.
    const { id: _id, transport: _t, createdAt: _c, updatedAt: _u, health: _h, paused: _p, transformHealth: _th, ...config } = view;
    const put = await app.http
      .put(`/api/v1/webhooks/${hook.id}`)
      .set(org.auth)
      .send({ ...config, description: 'edited' });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const ev = await publish(app, org, 'chat.started', { sessionId: 'sess-9' });
    await waitFor(() => received.find((r) => r.properties.messageId === ev.id));
    const d = await deliveryIn(app, hook, 'success');
    assert.equal(d.url, view.url);
    const audit = (await app.http.get('/api/v1/audit-log').set(org.auth).expect(200)).body;
    const text = JSON.stringify(audit);
    // The audit log masks every URL wholesale (userinfo and query string), whatever the scheme.
    assert.ok(text.includes('amqp://***:***@127.0.0.1:5672/'), text.slice(0, 500));
    assert.ok(!text.includes('guest:guest@'), 'no plaintext password in the audit log');
  });

  for (const [name, url, error] of [
    ['a closed port', 'amqp://guest:guest@127.0.0.1:1/?exchange=x&routingKey=k', /ECONNREFUSED/],
    ['a missing exchange', `${BROKER}/?exchange=${unique('missing')}&routingKey=k`, /NOT.FOUND/],
    ['no queue bound (unroutable)', `${BROKER}/?exchange=${exchange}&routingKey=nobody.listens`, /unroutable/],
  ] as const) {
    test(`${name}: retried, then the DLQ with the broker's error`, async () => {
      const org = await createOrg(app);
      const hook = await destinationHook(app, org, url, { events: ['message.sent'], retry: SHORT_RETRY });
      await publish(app, org, 'message.sent');
      const d = await deliveryIn(app, hook, 'failed', 15_000);
      assert.equal(d.attemptHistory.length, 2);
      for (const a of d.attemptHistory) {
        assert.equal(a.statusCode, null);
        assert.match(String(a.error), error);
      }
      const dlq = await waitFor(async () => (await dlqOf(app, hook))[0]);
      assert.match(dlq.failureReason, error);
      assert.equal(dlq.originalWebhook.url, url.replace('guest:guest@', 'guest:***@'));
    });
  }

  test('a wrong password: the error, the DLQ and the error.occurred event never show it; the URL is masked', async () => {
    const org = await createOrg(app);
    const url = `amqp://guest:Wr0ngPassw0rd@127.0.0.1:5672/?exchange=${exchange}&routingKey=message.x`;
    const hook = await destinationHook(app, org, url, { events: ['message.sent'], retry: { maxAttempts: 1 } });
    await publish(app, org, 'message.sent');
    const d = await deliveryIn(app, hook, 'failed', 15_000);
    assert.match(String(d.attemptHistory[0].error), /ACCESS.REFUSED|refused|auth/i);
    const notice = await waitFor(async () => {
      const h = await app.http.get('/api/v1/events/history?eventType=error.occurred').set(org.auth).expect(200);
      return h.body.events[0];
    });
    assert.ok(notice.data.message.includes('guest:***@127.0.0.1'), notice.data.message);
    const everything = JSON.stringify([d, await dlqOf(app, hook), notice, (await app.http.get('/api/v1/audit-log').set(org.auth)).body]);
    assert.ok(!everything.includes('Wr0ngPassw0rd'), 'the password appears nowhere');
  });

  test('the test endpoint publishes a webhook.test message and answers with the attempt', async () => {
    const org = await createOrg(app);
    const hook = await destinationHook(app, org, `${BROKER}/?exchange=${exchange}&routingKey=message.test`);
    const res = await app.http.post(`/api/v1/webhooks/${hook.id}/test`).set(org.auth);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.success, true, JSON.stringify(res.body));
    await waitFor(() => received.find((r) => r.fields.routingKey === 'message.test'));
  });
});
