import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { ConnectionCounter } from '../../src/realtime/connection-counter.js';
import { createOrg, type TestApp, type TestOrg } from '../support/launcher.js';
import { sleep, waitFor } from '../support/time.js';
import { eventOf, publish, publishBatch, startRealtimeApp, WsClient, wsUrl, type RealtimeSuite, type WsMessage } from './clients.js';

describe('raw WebSocket /api/v1/ws', () => {
  let app: TestApp;
  let a: TestOrg;
  let b: TestOrg;
  let suite: RealtimeSuite;
  const open = async (query = '', opts: WebSocket.ClientOptions = {}) => suite.track(await WsClient.open(wsUrl(app, query), opts));
  const withKey = (org: TestOrg, query = '') => `access_token=${encodeURIComponent(org.key)}${query ? `&${query}` : ''}`;

  before(async () => {
    ({ app, a, b } = suite = await startRealtimeApp());
  });
  after(() => suite.close());

  test('the seed’s browser snippet works as written (key in the query), and the header form too', async () => {
    const received: Record<string, unknown>[] = [];
    // a browser-style WebSocket: onopen / onmessage / event.data
    const ws = new WebSocket(wsUrl(app, `companions=comp-123&access_token=${encodeURIComponent(a.key)}`));
    ws.onopen = () => {
      ws.send(JSON.stringify({ type: 'subscribe', requestId: 'req-123', payload: { events: ['message.sent', 'message.received'] } }));
    };
    const acks: WsMessage[] = [];
    ws.onmessage = (event) => {
      const message = JSON.parse(event.data as string);
      if (message.type === 'event') received.push(message.payload);
      else acks.push(message);
    };
    const header = await open('companions=comp-123', { headers: { Authorization: `Bearer ${a.key}` } });
    await header.request({ type: 'subscribe', requestId: 'req-123', payload: { events: ['message.sent', 'message.received'] } });
    try {
      await waitFor(() => acks.length === 1);
      assert.deepEqual(acks[0].requestId, 'req-123');
      assert.equal(acks[0].type, 'ack');
      assert.match(acks[0].payload.subscriptionId as string, /^sub_/);
      const sent = await publish(app, a, 'message.sent', { companionId: 'comp-123' });
      await publish(app, a, 'message.sent', { companionId: 'comp-999' });
      await publish(app, a, 'companion.activated', { companionId: 'comp-123' }); // the subscribe narrowed the query's filter
      const answered = await publish(app, a, 'message.received', { companionId: 'comp-123' });
      await waitFor(() => received.length >= 2 && header.events().length >= 2);
      await sleep(150);
      assert.deepEqual(received, [
        { eventType: 'message.sent', eventId: sent.id, data: sent.data },
        { eventType: 'message.received', eventId: answered.id, data: answered.data },
      ]);
      assert.deepEqual(header.eventIds(), [sent.id, answered.id]);
    } finally {
      ws.terminate();
    }
  });

  test('initial filters come from the query; events of another organization never arrive', async () => {
    const all = await open(withKey(a));
    const narrow = await open(withKey(a, 'events=message.*&userId=user-1'));
    const own = await open(withKey(a, `organizationId=${a.id}`));
    await publishBatch(app, b, [eventOf('message.sent', { userId: 'user-1' })]);
    const ids = await publishBatch(app, a, [
      eventOf('message.sent', { userId: 'user-1' }),
      eventOf('message.sent', { userId: 'user-2' }),
      eventOf('chat.started', { userId: 'user-1' }),
      eventOf('message.received', { userId: 'user-1' }),
    ]);
    await waitFor(() => all.events().length >= 4 && own.events().length >= 4);
    await sleep(150);
    assert.deepEqual(all.eventIds(), ids);
    assert.deepEqual(own.eventIds(), ids);
    assert.deepEqual(narrow.eventIds(), [ids[0], ids[3]]);
  });

  test('ping → pong with the same requestId', async () => {
    const c = await open(withKey(a));
    const pong = await c.request({ type: 'ping', requestId: 'p-42' });
    assert.equal(pong.type, 'pong');
    assert.equal(pong.requestId, 'p-42');
    assert.ok(!Number.isNaN(Date.parse(pong.payload.timestamp as string)));
    const again = await c.request({ type: 'ping', requestId: 'p-43', payload: {} });
    assert.equal(again.requestId, 'p-43');
  });

  test('subscribe / unsubscribe: acks, one subscription removed by id, then all, unknown id → error', async () => {
    const c = await open(withKey(a, 'companions=comp-ws'));
    const s1 = await c.request({ type: 'subscribe', requestId: 's1', payload: { events: ['message.sent'] } });
    const s2 = await c.request({ type: 'subscribe', requestId: 's2', payload: { events: ['chat.*'], companions: ['comp-other'] } });
    assert.equal(s1.type, 'ack');
    assert.notEqual(s1.payload.subscriptionId, s2.payload.subscriptionId);
    const e1 = await publish(app, a, 'message.sent', { companionId: 'comp-ws' });
    await publish(app, a, 'message.sent', { companionId: 'comp-other' }); // s1 inherits companions=comp-ws from the query
    const e3 = await publish(app, a, 'chat.started', { companionId: 'comp-other' });
    await waitFor(() => c.events().length >= 2);
    const un = await c.request({ type: 'unsubscribe', requestId: 'u1', payload: { subscriptionId: s1.payload.subscriptionId } });
    assert.deepEqual(un, { type: 'ack', requestId: 'u1', payload: { unsubscribed: [s1.payload.subscriptionId] } });
    await publish(app, a, 'message.sent', { companionId: 'comp-ws' });
    const e5 = await publish(app, a, 'chat.ended', { companionId: 'comp-other' });
    await waitFor(() => c.events().length >= 3);
    const unknown = await c.request({ type: 'unsubscribe', requestId: 'u2', payload: { subscriptionId: 'sub_nope' } });
    assert.equal(unknown.type, 'error');
    assert.equal(unknown.payload.code, 'not_found');
    const rest = await c.request({ type: 'unsubscribe', requestId: 'u3' });
    assert.deepEqual(rest.payload, { unsubscribed: [s2.payload.subscriptionId] });
    await publish(app, a, 'chat.ended', { companionId: 'comp-other' });
    await sleep(200);
    assert.deepEqual(c.eventIds(), [e1.id, e3.id, e5.id]);
  });

  test('chat publishes a message.sent through the publisher and acks {messageId, eventId}', async () => {
    const c = await open(withKey(a, 'events=message.sent&companions=comp-chat'));
    const ack = await c.request({
      type: 'chat',
      requestId: 'c1',
      payload: { companionId: 'comp-chat', userId: 'user-9', content: 'Hi there' },
    });
    assert.equal(ack.type, 'ack');
    assert.match(ack.payload.messageId as string, /^msg_/);
    assert.match(ack.payload.eventId as string, /^evt_/);
    const ev = await c.next((m) => m.type === 'event');
    assert.equal(ev.payload.eventId, ack.payload.eventId);
    assert.equal(ev.payload.eventType, 'message.sent');
    assert.deepEqual(
      { ...(ev.payload.data as object), timestamp: undefined },
      {
        messageId: ack.payload.messageId,
        companionId: 'comp-chat',
        userId: 'user-9',
        content: 'Hi there',
        type: 'text',
        metadata: { source: 'websocket' },
        timestamp: undefined,
      },
    );
    // it went through the publisher into the log: the history has it too
    await waitFor(async () => (await app.http.get(`/api/v1/events/${ack.payload.eventId}`).set(a.auth)).status === 200);
    const bad = await c.request({ type: 'chat', requestId: 'c2', payload: { companionId: 'comp-chat', content: 3 } });
    assert.equal(bad.type, 'error');
    assert.equal(bad.payload.code, 'validation_error');
    assert.ok((bad.payload.details as { field: string }[]).some((d) => d.field === 'payload.userId'));
    const readOnly = await createOrg(app, 'read-only', ['streams:read']);
    const ro = await open(withKey(readOnly));
    const refused = await ro.request({ type: 'chat', requestId: 'c3', payload: { companionId: 'x', userId: 'y', content: 'z' } });
    assert.equal(refused.payload.code, 'forbidden');
  });

  test('malformed frames, unknown types and bad payloads get an error and the connection stays open', async () => {
    const c = await open(withKey(a));
    c.send('this is not json');
    const notJson = await c.next((m) => m.type === 'error');
    assert.equal(notJson.payload.code, 'malformed_json');
    assert.equal(notJson.requestId, undefined);
    c.send({ requestId: 'r1', payload: {} });
    assert.deepEqual((await c.next((m) => m.requestId === 'r1')).payload.code, 'invalid_message');
    c.send([1, 2, 3]);
    c.send('"a string"');
    await waitFor(() => c.messages.filter((m) => m.payload.code === 'invalid_message').length === 3);
    const unknown = await c.request({ type: 'teleport', requestId: 'r2', payload: {} });
    assert.deepEqual([unknown.type, unknown.payload.code], ['error', 'unknown_message_type']);
    for (const [i, payload] of [
      { events: 'message.sent' },
      { events: ['nope.happened'] },
      { events: [] },
      { companions: [''] },
      { colour: 'red' },
      { lastEventId: 'evt_bad' },
    ].entries()) {
      const res = await c.request({ type: 'subscribe', requestId: `bad-${i}`, payload });
      assert.equal(res.type, 'error', JSON.stringify(payload));
      assert.match(res.payload.code!, /^(validation_error|invalid_last_event_id)$/);
      assert.ok(res.payload.message, 'a human message');
    }
    const ok = await c.request({ type: 'ping', requestId: 'still-open' });
    assert.equal(ok.type, 'pong');
    assert.equal(c.closed, undefined);
  });

  test('a frame over 64 KiB is refused by closing with 1009', async () => {
    const c = await open(withKey(a));
    c.send({ type: 'ping', requestId: 'big', payload: { pad: 'x'.repeat(70 * 1024) } });
    await waitFor(() => c.closed);
    assert.equal(c.closed!.code, 1009);
  });

  test('upgrade refusals are HTTP JSON errors: 401, 403 scope, 403 organization, 400 filter and resume id', async () => {
    const refused = async (query: string, opts: WebSocket.ClientOptions = {}) => {
      const err = await WsClient.open(wsUrl(app, query), opts).then(
        () => assert.fail('upgrade accepted'),
        (e: Error & { status: number; body: { error: { code: string } } }) => e,
      );
      return [err.status, err.body.error.code];
    };
    assert.deepEqual(await refused(''), [401, 'unauthorized']);
    assert.deepEqual(await refused('access_token=hk_wrong'), [401, 'unauthorized']);
    assert.deepEqual(await refused('', { headers: { Authorization: 'Bearer hk_wrong' } }), [401, 'unauthorized']);
    const noScope = await createOrg(app, 'no-streams', ['events:write']);
    assert.deepEqual(await refused(withKey(noScope)), [403, 'forbidden']);
    assert.deepEqual(await refused(withKey(a, `organizationId=${b.id}`)), [403, 'forbidden']);
    assert.deepEqual(await refused(withKey(a, 'events=nope.*')), [400, 'validation_error']);
    assert.deepEqual(await refused(withKey(a, 'lastEventId=evt_x')), [400, 'invalid_last_event_id']);
  });

  test('resume: ?lastEventId on connect and lastEventId in subscribe replay what was missed, then live', async () => {
    const e0 = await publish(app, a, 'message.sent', { companionId: 'comp-r' });
    const missed = await publishBatch(
      app,
      a,
      Array.from({ length: 30 }, (_, i) => eventOf(i % 2 ? 'message.sent' : 'chat.started', { companionId: 'comp-r' })),
    );
    const c = await open(withKey(a, `companions=comp-r&events=message.sent&lastEventId=${e0.id}`));
    await waitFor(() => c.events().length >= 15);
    const live = await publish(app, a, 'message.sent', { companionId: 'comp-r' });
    await waitFor(() => c.events().length >= 16);
    await sleep(100);
    assert.deepEqual(c.eventIds(), [...missed.filter((_, i) => i % 2), live.id]);

    const d = await open(withKey(a));
    const ack = await d.request({
      type: 'subscribe',
      requestId: 'r',
      payload: { events: ['chat.started'], companions: ['comp-r'], lastEventId: e0.id },
    });
    assert.equal(ack.type, 'ack');
    await waitFor(() => d.events().length >= 15);
    await sleep(100);
    assert.deepEqual(
      d.eventIds(),
      missed.filter((_, i) => i % 2 === 0),
    );
    assert.ok(d.messages.indexOf(ack) < d.messages.indexOf(d.events()[0]), 'the ack comes before the replayed events');
  });

  test('protocol pings every HEARTBEAT_INTERVAL_MS; a peer that never answers is terminated; connections are counted', async () => {
    const counter = app.running.app.get(ConnectionCounter);
    const c = await open(withKey(b));
    const pings: number[] = [];
    c.ws.on('ping', () => pings.push(Date.now()));
    const mute = await open(withKey(b), { autoPong: false });
    await waitFor(() => counter.forOrganization(b.id) === 2);
    await waitFor(() => mute.closed, 3000);
    assert.equal(mute.closed!.code, 1006, 'terminated without a close frame');
    await waitFor(() => pings.length >= 4, 3000);
    const gaps = pings.slice(1).map((t, i) => t - pings[i]);
    for (const gap of gaps) assert.ok(gap >= 200 && gap <= 450, `ping gaps ${gaps}`);
    assert.equal(c.closed, undefined, 'a peer that answers stays');
    await waitFor(() => counter.forOrganization(b.id) === 1);
    c.close();
    await waitFor(() => counter.forOrganization(b.id) === 0);
  });
});
