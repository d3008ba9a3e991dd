import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionCounter } from '../../src/realtime/connection-counter.js';
import { createOrg, type TestApp, type TestOrg } from '../support/launcher.js';
import { sleep, waitFor } from '../support/time.js';
import { eventOf, publish, publishBatch, sioConnect, sioConnected, startRealtimeApp, type RealtimeSuite } from './clients.js';

describe('Socket.IO namespace /events', () => {
  let app: TestApp;
  let a: TestOrg;
  let b: TestOrg;
  let suite: RealtimeSuite;
  const connect = async (token: string | undefined, opts: Parameters<typeof sioConnect>[2] = {}) => {
    const c = sioConnect(app, token, opts);
    suite.track(c.socket);
    await sioConnected(c.socket);
    return c;
  };

  before(async () => {
    ({ app, a, b } = suite = await startRealtimeApp());
  });
  after(() => suite.close());

  test('auth.token is required: connect_error carries a clear message and a code', async () => {
    const refusal = async (token: string | undefined) => {
      const err = await connect(token).then(
        () => assert.fail('connected'),
        (e: Error & { data: { code: string; status: number } }) => e,
      );
      return [err.data.code, err.data.status, err.message];
    };
    const [code, status, message] = await refusal(undefined);
    assert.deepEqual([code, status], ['unauthorized', 401]);
    assert.match(message as string, /auth: \{ token \}/);
    assert.deepEqual((await refusal('hk_wrong')).slice(0, 2), ['unauthorized', 401]);
    const noScope = await createOrg(app, 'no-streams', ['events:write']);
    assert.deepEqual((await refusal(noScope.key)).slice(0, 2), ['forbidden', 403]);
  });

  test('subscribe with ack; events arrive under their type name as envelopes, filtered, own organization only', async () => {
    const { socket, received } = await connect(a.key);
    const typed: unknown[] = [];
    socket.on('message.sent', (envelope: unknown) => typed.push(envelope));
    const ack = await socket.emitWithAck('subscribe', { events: ['message.*'], companions: ['comp-io'] });
    assert.match(ack.subscriptionId, /^sub_/);
    const other = await connect(b.key);
    await other.socket.emitWithAck('subscribe', {});
    await publishBatch(app, b, [eventOf('message.sent', { companionId: 'comp-io' })]);
    const sent = await publish(app, a, 'message.sent', { companionId: 'comp-io' });
    await publish(app, a, 'chat.started', { companionId: 'comp-io' });
    await publish(app, a, 'message.sent', { companionId: 'comp-else' });
    const got = await publish(app, a, 'message.received', { companionId: 'comp-io' });
    await waitFor(() => received.length >= 2);
    await sleep(150);
    assert.deepEqual(
      received.map((r) => [r.type, r.envelope.id]),
      [
        ['message.sent', sent.id],
        ['message.received', got.id],
      ],
    );
    assert.deepEqual(typed, [
      {
        id: sent.id,
        type: 'message.sent',
        organizationId: a.id,
        timestamp: (typed[0] as { timestamp: string }).timestamp,
        data: sent.data,
      },
    ]);
    assert.ok(other.received.every((r) => r.envelope.organizationId === b.id));
  });

  test('no subscription, no events; bad payloads are acknowledged with an error; unsubscribe and chat', async () => {
    const { socket, received } = await connect(a.key);
    await publish(app, a, 'message.sent');
    await sleep(150);
    assert.equal(received.length, 0);
    const bad = await socket.emitWithAck('subscribe', { events: ['nope.happened'] });
    assert.equal(bad.error.code, 'validation_error');
    assert.match(bad.error.message, /nope\.happened/);
    assert.equal((await socket.emitWithAck('subscribe', 'message.sent')).error.code, 'validation_error');
    const { subscriptionId } = await socket.emitWithAck('subscribe', { events: ['message.sent'], companions: ['comp-chat'] });
    const chat = await socket.emitWithAck('chat', { companionId: 'comp-chat', userId: 'u', content: 'hello' });
    assert.match(chat.eventId, /^evt_/);
    await waitFor(() => received.length === 1);
    assert.equal(received[0].envelope.id, chat.eventId);
    assert.deepEqual(received[0].envelope.data.metadata, { source: 'websocket' });
    assert.deepEqual(await socket.emitWithAck('unsubscribe', { subscriptionId }), { unsubscribed: [subscriptionId] });
    assert.equal((await socket.emitWithAck('unsubscribe', { subscriptionId })).error.code, 'not_found');
    await publish(app, a, 'message.sent', { companionId: 'comp-chat' });
    await sleep(150);
    assert.equal(received.length, 1);
  });

  test('connection-state recovery: after a dropped transport the socket is recovered with its subscriptions and gets what it missed', async () => {
    const counter = app.running.app.get(ConnectionCounter);
    const base = counter.forOrganization(b.id);
    const { socket, received } = await connect(b.key, {
      reconnection: true,
      reconnectionDelay: 600,
      reconnectionDelayMax: 600,
      randomizationFactor: 0,
    });
    await socket.emitWithAck('subscribe', { events: ['message.sent'] });
    const first = await publish(app, b, 'message.sent');
    await waitFor(() => received.length === 1);
    const reconnected = new Promise<void>((resolve) => socket.io.once('reconnect', () => resolve()));
    socket.io.engine.close();
    await waitFor(() => counter.forOrganization(b.id) === base);
    const missed = await publishBatch(app, b, [
      eventOf('message.sent'),
      eventOf('chat.started'),
      eventOf('message.sent'),
      eventOf('message.sent'),
    ]);
    await reconnected;
    await waitFor(() => socket.connected);
    assert.equal(socket.recovered, true);
    const live = await publish(app, b, 'message.sent');
    await waitFor(() => received.length >= 5);
    await sleep(150);
    assert.deepEqual(
      received.map((r) => r.envelope.id),
      [first.id, missed[0], missed[2], missed[3], live.id],
    );
  });
});
