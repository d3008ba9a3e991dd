import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type NatsConnection, type Msg } from 'nats';
import { createOrg, startTestApp, type TestApp } from '../support/launcher.js';
import { waitFor } from '../support/time.js';
import { deliveryIn, dlqOf, publish } from '../webhooks/fixtures.js';
import { assertSignedMessage, destinationHook, SHORT_RETRY, unique } from './support.js';

let app: TestApp;
let nc: NatsConnection;
const prefix = unique('humana').replace(/-/g, '_');
const stream = `${prefix}_stream`.toUpperCase();

const headersOf = (m: Msg): Record<string, string> => Object.fromEntries([...(m.headers?.keys() ?? [])].map((k) => [k, m.headers!.get(k)]));

before(async () => {
  app = await startTestApp();
  nc = await connect({ servers: '127.0.0.1:4222' });
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({ name: stream, subjects: [`${prefix}.js.>`], duplicate_window: 60_000_000_000 });
});
after(async () => {
  const jsm = await nc.jetstreamManager();
  await jsm.streams.delete(stream).catch(() => undefined);
  await nc.close();
  await app.close();
});

describe('nats destination', () => {
  test('core NATS (no stream captures the subject): a subscriber gets the signed envelope, subject from placeholders', async () => {
    const got: Msg[] = [];
    const sub = nc.subscribe(`${prefix}.core.>`, { callback: (_e, m) => got.push(m) });
    await nc.flush();
    const org = await createOrg(app);
    const hook = await destinationHook(app, org, `nats://127.0.0.1:4222?subject=${prefix}.core.{type}.{data.companionId}`, {
      events: ['message.sent'],
    });
    const ev = await publish(app, org, 'message.sent', { companionId: 'c.1 *' });
    const m = (await waitFor(() => got[0]))!;
    assert.equal(m.subject, `${prefix}.core.message.sent.c_1__`, 'a data value is one token: ".", " " and "*" become "_"');
    assertSignedMessage(headersOf(m), m.string(), hook.secret, { eventId: ev.id, eventType: 'message.sent' });
    assert.deepEqual(JSON.parse(m.string()), ev);
    const d = await deliveryIn(app, hook, 'success');
    assert.match(d.attemptHistory[0].responseBody, /core NATS, flushed/);
    sub.unsubscribe();
  });

  test('JetStream: stored with Nats-Msg-Id = event id; a second publish of the same event is de-duplicated', async () => {
    const org = await createOrg(app);
    const hook = await destinationHook(app, org, `nats://127.0.0.1:4222?subject=${prefix}.js.{type}`, { events: ['chat.started'] });
    const ev = await publish(app, org, 'chat.started');
    const d = await deliveryIn(app, hook, 'success');
    assert.match(d.attemptHistory[0].responseBody, new RegExp(`jetstream ack: stream ${stream}, seq \\d+$`));
    // The same event again (what a retry after a lost ack does): JetStream keeps one message.
    const replay = await app.http.post(`/api/v1/webhooks/${hook.id}/deliveries/${d.id}/replay`).set(org.auth);
    assert.equal(replay.status, 202, JSON.stringify(replay.body));
    const again = await waitFor(async () => {
      const r = await app.http.get(`/api/v1/webhooks/${hook.id}/deliveries/${replay.body.deliveryId}`).set(org.auth);
      return r.status === 200 && r.body.status === 'success' ? r.body : null;
    });
    assert.match(again.attemptHistory[0].responseBody, /duplicate$/);
    const jsm = await nc.jetstreamManager();
    const info = await jsm.streams.info(stream);
    const msg = await jsm.streams.getMessage(stream, { last_by_subj: `${prefix}.js.chat.started` });
    assert.equal(info.state.messages, 1);
    assert.equal(msg.header.get('Nats-Msg-Id'), ev.id);
    assertSignedMessage(
      Object.fromEntries([...msg.header.keys()].map((k) => [k, msg.header.get(k)])),
      new TextDecoder().decode(msg.data),
      hook.secret,
      {
        eventId: ev.id,
        eventType: 'chat.started',
      },
    );
  });

  test('a closed port: retried, then the DLQ with the connection error', async () => {
    const org = await createOrg(app);
    const hook = await destinationHook(app, org, `nats://127.0.0.1:1?subject=${prefix}.x`, {
      events: ['message.sent'],
      retry: SHORT_RETRY,
    });
    await publish(app, org, 'message.sent');
    const d = await deliveryIn(app, hook, 'failed', 15_000);
    assert.equal(d.attemptHistory.length, 2);
    assert.ok(
      d.attemptHistory.every((a) => a.errorKind === 'connection'),
      JSON.stringify(d.attemptHistory),
    );
    const dlq = await waitFor(async () => (await dlqOf(app, hook))[0]);
    assert.match(dlq.failureReason, /CONNECTION_REFUSED|ECONNREFUSED/);
  });
});
