import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { Socket } from 'socket.io-client';
import { ConnectionCounter } from '../../src/realtime/connection-counter.js';
import { ADMIN_TOKEN, createOrg, startTestApp, type TestApp, type TestOrg } from '../support/launcher.js';
import { waitFor } from '../support/time.js';
import { eventOf, publishBatch, sioConnect, sioConnected, SseClient, sseUrl, WsClient, wsUrl } from './clients.js';

const BUFFER_BYTES = 256 * 1024;

/** A raw SSE request that does not read after the headers until `read()`: TCP backpressure builds up to the server. */
function pausedSse(app: TestApp, key: string): Promise<{ res: http.IncomingMessage; read: () => Promise<string> }> {
  return new Promise((resolve, reject) => {
    const req = http.get(sseUrl(app), { headers: { Authorization: `Bearer ${key}` } }, (res) => {
      res.pause();
      const read = () =>
        new Promise<string>((done) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('close', () => done(text));
          res.resume();
        });
      resolve({ res, read });
    });
    req.on('error', reject);
  });
}

/** `id:` lines of the SSE frames in `text`, in order. */
const frameIds = (text: string) => [...text.matchAll(/^id: (evt_\w+)$/gm)].map((m) => m[1]);

describe('backpressure and connection limits', () => {
  let app: TestApp;
  let org: TestOrg;
  let counter: ConnectionCounter;
  const closers: (() => void)[] = [];

  before(async () => {
    // a long protocol-ping period: paused readers must be cut for their backlog, not for missing pongs
    app = await startTestApp({ env: { HEARTBEAT_INTERVAL_MS: '10000', STREAM_BUFFER_BYTES: String(BUFFER_BYTES) } });
    org = await createOrg(app);
    counter = app.running.app.get(ConnectionCounter);
  });
  after(async () => {
    for (const close of closers) close();
    await app.close();
  });

  test('stalled SSE / WebSocket clients are cut off with a reason while healthy ones receive everything', async () => {
    const healthySse = new SseClient(sseUrl(app), { key: org.key });
    closers.push(() => healthySse.close());
    const healthyWs = await WsClient.open(wsUrl(app, `access_token=${org.key}`));
    closers.push(() => healthyWs.close());
    // "stalled" clients never read again; "late" ones stop reading, then read everything once they have been cut
    const stalledWs = await WsClient.open(wsUrl(app, `access_token=${org.key}`));
    const lateWs = await WsClient.open(wsUrl(app, `access_token=${org.key}`));
    stalledWs.ws.pause();
    lateWs.ws.pause();
    const stalledSse = await pausedSse(app, org.key);
    const lateSse = await pausedSse(app, org.key);
    closers.push(
      () => stalledWs.close(),
      () => lateWs.close(),
      () => stalledSse.res.destroy(),
      () => lateSse.res.destroy(),
    );
    await healthySse.opened;
    await waitFor(() => counter.forOrganization(org.id) === 6);

    // far more than the socket buffers (a few MiB on loopback) plus the 256 KiB bound: 12 MiB in 120 events
    const content = 'x'.repeat(100 * 1024);
    const ids: string[] = [];
    const publishing = (async () => {
      for (let i = 0; i < 12; i++)
        ids.push(
          ...(await publishBatch(
            app,
            org,
            Array.from({ length: 10 }, () => eventOf('message.sent', { content })),
          )),
        );
    })();
    // past 7 MiB the paused ones have been cut: the late ones read what was queued for them, then the notice
    await healthySse.waitForEvents(70, 30_000);
    lateWs.ws.resume();
    const lateText = await lateSse.read();
    await publishing;
    await healthySse.waitForEvents(ids.length, 30_000);
    await waitFor(() => healthyWs.events().length === ids.length, 30_000);
    assert.deepEqual(healthySse.ids(), ids, 'the healthy SSE client got everything, in order');
    assert.deepEqual(healthyWs.eventIds(), ids, 'the healthy WebSocket client got everything, in order');

    const got = frameIds(lateText);
    assert.ok(got.length < 70, `the SSE client was cut (${got.length}/${ids.length})`);
    assert.deepEqual(got, ids.slice(0, got.length), 'what it got is a gap-free prefix');
    const notice = /event: error\ndata: (.*)\n\n$/.exec(lateText);
    assert.ok(notice, `the last frame says why: …${lateText.slice(-120)}`);
    assert.deepEqual(JSON.parse(notice[1]), {
      code: 'slow_consumer',
      message: JSON.parse(notice[1]).message,
      lastEventId: got[got.length - 1],
    });

    await waitFor(() => lateWs.closed, 10_000);
    const wsGot = lateWs.eventIds();
    assert.ok(wsGot.length < 70, `the WebSocket client was cut (${wsGot.length}/${ids.length})`);
    assert.deepEqual(wsGot, ids.slice(0, wsGot.length));
    assert.deepEqual(lateWs.closed, { code: 4008, reason: `slow_consumer lastEventId=${wsGot[wsGot.length - 1]}` });

    // the stalled ones see nothing (they do not read) but the server dropped them all the same
    await waitFor(() => counter.forOrganization(org.id) === 2, 15_000);
    assert.equal(healthySse.es.readyState, healthySse.es.OPEN);
    assert.equal(healthyWs.closed, undefined);
  });

  test('per-organization connection limit: SSE 429, WebSocket HTTP 429 on upgrade, Socket.IO connect_error; a freed slot is reusable', async () => {
    const limited = await createOrg(app, 'limited');
    await app.http
      .patch(`/api/v1/admin/organizations/${limited.id}/limits`)
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .send({ maxConnections: 2 })
      .expect(200);
    const first = new SseClient(sseUrl(app), { key: limited.key });
    closers.push(() => first.close());
    const ws = await WsClient.open(wsUrl(app, `access_token=${limited.key}`));
    closers.push(() => ws.close());
    await first.opened;

    const sse = await app.http.get('/api/v1/events/stream').set(limited.auth).expect(429);
    assert.equal(sse.body.error.code, 'connection_limit');
    assert.match(sse.body.error.message, /limit 2/);
    const upgrade = await WsClient.open(wsUrl(app, `access_token=${limited.key}`)).then(
      () => assert.fail('upgrade accepted'),
      (e: { status: number; body: { error: { code: string } } }) => e,
    );
    assert.deepEqual([upgrade.status, upgrade.body.error.code], [429, 'connection_limit']);
    const io = sioConnect(app, limited.key);
    closers.push(() => io.socket.close());
    const refused = await sioConnected(io.socket).then(
      () => assert.fail('connected'),
      (e: Error & { data: { code: string } }) => e,
    );
    assert.equal(refused.data.code, 'connection_limit');
    assert.equal(counter.forOrganization(limited.id), 2, 'refusals are not counted');

    ws.close();
    await waitFor(() => counter.forOrganization(limited.id) === 1);
    const again: Socket = sioConnect(app, limited.key).socket;
    closers.push(() => again.close());
    await sioConnected(again);
    assert.equal(counter.forOrganization(limited.id), 2);
    assert.equal(counter.counts().socketio, 1);
  });
});
