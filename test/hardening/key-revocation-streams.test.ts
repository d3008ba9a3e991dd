import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventSource } from 'eventsource';
import { ADMIN_TOKEN, startTestApp, type TestApp, type TestOrg } from '../support/launcher.js';
import { sleep, waitFor } from '../support/time.js';
import { publish, RT_ENV, sioConnect, sioConnected, SseClient, sseUrl, WsClient, wsUrl } from '../realtime/clients.js';

const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };

describe('revoking an API key ends its open streams on every instance', () => {
  /** Where the key is revoked. */
  let a: TestApp;
  /** Where the streams are open: it learns of the revocation only through Redis. */
  let b: TestApp;
  let orgId: string;
  const closers: (() => void)[] = [];

  const newKey = async (): Promise<TestOrg & { keyId: string }> => {
    const res = await a.http
      .post(`/api/v1/admin/organizations/${orgId}/api-keys`)
      .set(admin)
      .send({ name: 'browser', scopes: ['streams:read', 'events:write'] })
      .expect(201);
    return { id: orgId, key: res.body.key, keyId: res.body.id, auth: { Authorization: `Bearer ${res.body.key}` } };
  };

  before(async () => {
    a = await startTestApp({ env: RT_ENV });
    b = await startTestApp({ redis: a.redis, databaseUrl: a.databaseUrl, env: { ...RT_ENV, ROLE: 'api' } });
    orgId = (await a.http.post('/api/v1/admin/organizations').set(admin).send({ name: 'revocations' }).expect(201)).body.id;
  });
  after(async () => {
    for (const close of closers) close();
    await b.close();
    await a.close();
  });

  test('SSE, WebSocket and Socket.IO of the revoked key close with key_revoked within ~6 s; another key of the org stays', async () => {
    const revoked = await newKey();
    const kept = await newKey();
    const open = async (k: TestOrg) => {
      const sse = new SseClient(sseUrl(b, 'events=message.*'), { key: k.key });
      const ws = await WsClient.open(wsUrl(b, `access_token=${k.key}&events=message.*`));
      const io = sioConnect(b, k.key, { reconnection: true, reconnectionDelay: 100 });
      const disconnects: string[] = [];
      io.socket.on('disconnect', (reason) => disconnects.push(reason));
      closers.push(
        () => sse.close(),
        () => ws.close(),
        () => io.socket.close(),
      );
      await sioConnected(io.socket);
      await io.socket.emitWithAck('subscribe', { events: ['message.*'] });
      await sse.opened;
      return { sse, ws, io, disconnects };
    };
    const r = await open(revoked);
    const k = await open(kept);

    // authenticated on b (its cache holds the principal for 5 s): b must hear of the revocation through Redis
    await publish(b, kept, 'message.sent');
    await waitFor(() => r.sse.events().length === 1 && r.ws.events().length === 1 && r.io.received.length === 1);

    const t0 = Date.now();
    await a.http.delete(`/api/v1/admin/organizations/${orgId}/api-keys/${revoked.keyId}`).set(admin).expect(204);
    await waitFor(() => r.ws.closed && r.disconnects.length > 0 && r.sse.messages.some((m) => m.type === 'error'), 6_000, 20);
    assert.ok(Date.now() - t0 < 6_000);

    const sseError = r.sse.messages.find((m) => m.type === 'error')!;
    assert.equal(sseError.data.code, 'key_revoked');
    await waitFor(() => r.sse.es.readyState === EventSource.CLOSED, 6_000, 20); // its reconnection is refused (401)

    assert.equal(r.ws.closed!.code, 4001);
    assert.match(r.ws.closed!.reason, /key_revoked/);
    assert.ok(r.ws.messages.some((m) => m.type === 'error' && m.payload.code === 'key_revoked'));

    const ioError = r.io.received.find((e) => e.type === 'error');
    assert.equal((ioError?.envelope as unknown as { code: string }).code, 'key_revoked');
    assert.deepEqual(r.disconnects, ['io server disconnect']);

    // the other key of the same organization is untouched and still receives events
    await sleep(300);
    assert.equal(k.ws.closed, undefined);
    assert.ok(k.io.socket.connected);
    assert.equal(k.sse.es.readyState, EventSource.OPEN);
    await publish(a, kept, 'message.received');
    await waitFor(
      () => k.sse.events().length === 2 && k.ws.events().length === 2 && k.io.received.filter((e) => e.type !== 'error').length === 2,
    );
    assert.equal(r.sse.events().length, 1);
    assert.equal(r.ws.events().length, 1);
    assert.ok(!r.io.socket.connected);

    // and the revoked key opens nothing new on either instance
    for (const app of [a, b]) await app.http.get('/api/v1/events/stream').set(revoked.auth).expect(401);
  });
});
