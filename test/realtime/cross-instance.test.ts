import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'socket.io-client';
import { ConnectionCounter } from '../../src/realtime/connection-counter.js';
import { EventsGateway, organizationRoom } from '../../src/realtime/events.gateway.js';
import { ADMIN_TOKEN, createOrg, startTestApp, type TestApp, type TestOrg } from '../support/launcher.js';
import { sleep, waitFor } from '../support/time.js';
import { eventOf, publish, publishBatch, RT_ENV, sioConnect, sioConnected, SseClient, sseUrl, WsClient, wsUrl } from './clients.js';

describe('two API instances on one Redis behave as one', () => {
  let a: TestApp;
  let b: TestApp;
  let org: TestOrg;
  const closers: (() => void)[] = [];

  before(async () => {
    a = await startTestApp({ env: RT_ENV });
    b = await startTestApp({ redis: a.redis, databaseUrl: a.databaseUrl, env: RT_ENV });
    org = await createOrg(a);
  });
  after(async () => {
    for (const close of closers) close();
    await b.close();
    await a.close();
  });

  test('an event published on A reaches SSE, WebSocket and Socket.IO subscribers on B (and the other way round)', async () => {
    const sseB = new SseClient(sseUrl(b, 'events=message.*'), { key: org.key });
    const sseA = new SseClient(sseUrl(a, 'events=message.*'), { key: org.key });
    closers.push(
      () => sseB.close(),
      () => sseA.close(),
    );
    const wsB = await WsClient.open(wsUrl(b, `access_token=${org.key}&events=message.*`));
    closers.push(() => wsB.close());
    const io = sioConnect(b, org.key);
    closers.push(() => io.socket.close());
    await sioConnected(io.socket);
    await io.socket.emitWithAck('subscribe', { events: ['message.*'] });
    await Promise.all([sseA.opened, sseB.opened]);

    const fromA = await publish(a, org, 'message.sent');
    const fromB = await publish(b, org, 'message.received');
    await publish(a, org, 'chat.started'); // filtered everywhere
    await waitFor(() => sseB.events().length === 2 && sseA.events().length === 2 && wsB.events().length === 2 && io.received.length === 2);
    await sleep(150);
    const want = [fromA.id, fromB.id];
    assert.deepEqual(sseB.ids(), want);
    assert.deepEqual(sseA.ids(), want);
    assert.deepEqual(wsB.eventIds(), want);
    assert.deepEqual(
      io.received.map((r) => r.envelope.id),
      want,
      'delivered once: the adapter does not carry our events a second time',
    );
  });

  test('Socket.IO rooms work across instances through the Redis adapter', async () => {
    const io = sioConnect(b, org.key);
    closers.push(() => io.socket.close());
    await sioConnected(io.socket);
    const nspA = a.running.app.get(EventsGateway).namespace;
    const remote = await nspA.in(organizationRoom(org.id)).fetchSockets();
    assert.ok(
      remote.some((s) => s.id === io.socket.id),
      'A sees the socket connected to B in the organization room',
    );
    nspA.to(organizationRoom(org.id)).emit('notice', { text: 'maintenance at noon' });
    await waitFor(() => io.received.some((r) => r.type === 'notice'));
  });

  test('a Socket.IO client recovers its session on the other instance and gets what it missed', async () => {
    const { socket, received } = sioConnect(a, org.key, {
      reconnection: true,
      reconnectionDelay: 500,
      reconnectionDelayMax: 500,
      randomizationFactor: 0,
    });
    closers.push(() => socket.close());
    await sioConnected(socket);
    await socket.emitWithAck('subscribe', { events: ['companion.*'] });
    const first = await publish(a, org, 'companion.activated');
    await waitFor(() => received.length === 1);

    // the load balancer sends the reconnection to B
    (socket.io as unknown as { uri: string }).uri = b.url;
    const counterA = a.running.app.get(ConnectionCounter);
    const before = counterA.counts().socketio;
    socket.io.engine.close();
    await waitFor(() => counterA.counts().socketio === before - 1);
    const missed = await publishBatch(a, org, [eventOf('companion.deactivated'), eventOf('message.sent'), eventOf('companion.updated')]);
    await waitFor(() => socket.connected && received.length >= 3, 10_000);
    assert.equal(socket.recovered, true, 'session restored from Redis by the other instance');
    const live = await publish(a, org, 'companion.deleted');
    await waitFor(() => received.length >= 4);
    await sleep(150);
    assert.deepEqual(
      received.map((r) => r.envelope.id),
      [first.id, missed[0], missed[2], live.id],
    );
    assert.ok(b.running.app.get(ConnectionCounter).counts().socketio >= 1, 'now connected to B');
  });

  test('the per-organization connection limit counts connections on every instance', async () => {
    const limited = await createOrg(a, 'limited');
    await a.http
      .patch(`/api/v1/admin/organizations/${limited.id}/limits`)
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .send({ maxConnections: 2 })
      .expect(200);
    const onA = new SseClient(sseUrl(a), { key: limited.key });
    const onB = await WsClient.open(wsUrl(b, `access_token=${limited.key}`));
    closers.push(
      () => onA.close(),
      () => onB.close(),
    );
    await onA.opened;
    await sleep(700); // two sync periods (HEARTBEAT_INTERVAL_MS = 300)
    for (const app of [a, b]) {
      const res = await app.http.get('/api/v1/events/stream').set(limited.auth).expect(429);
      assert.equal(res.body.error.code, 'connection_limit');
    }
    const io: Socket = sioConnect(b, limited.key).socket;
    closers.push(() => io.close());
    await assert.rejects(sioConnected(io), (e: { data: { code: string } }) => e.data.code === 'connection_limit');
    onB.close();
    await sleep(700);
    const again = new SseClient(sseUrl(a), { key: limited.key });
    closers.push(() => again.close());
    await again.opened;
  });
});
