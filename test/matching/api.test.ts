import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ErrorDetail } from '../../src/common/api-error.js';
import { createOrg, startTestApp, type TestApp, type TestOrg } from '../support/launcher.js';
import { waitFor } from '../support/time.js';
import { publish, RT_ENV, sioConnect, sioConnected, SseClient, sseUrl, WsClient, wsUrl } from '../realtime/clients.js';
import { hookFor } from '../webhooks/fixtures.js';
import { Receiver } from '../support/receiver.js';

const STARS_17 = '*a'.repeat(17);

function fields(body: { error: { details: ErrorDetail[] } }): string[] {
  return body.error.details.map((d) => `${d.field}: ${d.message}`);
}

describe('filters and patterns through the API', () => {
  let app: TestApp;
  let rx: Receiver;
  let a: TestOrg;
  let b: TestOrg;
  const closers: { close(): void }[] = [];

  before(async () => {
    app = await startTestApp({ env: RT_ENV });
    rx = await Receiver.start();
    a = await createOrg(app, 'A');
    b = await createOrg(app, 'B');
  });
  after(async () => {
    for (const c of closers) c.close();
    await app.close();
    await rx.close();
  });

  test('dotted paths and operators select exactly the matching events; reads show the filters as written', async () => {
    const org = await createOrg(app);
    const mobile = await hookFor(app, rx.url, { events: ['message.*'], filters: { 'metadata.source': ['mobile'] } }, org);
    const slow = await hookFor(app, rx.url, { events: ['message.received'], filters: { processingTime: { gte: 2000, lt: 10_000 } } }, org);
    const serious = await hookFor(
      app,
      rx.url,
      { events: ['error.occurred'], filters: { severity: { not: ['low', 'medium'] }, 'context.region': { exists: true } } },
      org,
    );
    const read = await app.http.get(`/api/v1/webhooks/${slow.id}`).set(org.auth).expect(200);
    assert.deepEqual(read.body.filters, { processingTime: { gte: 2000, lt: 10_000 } });

    const want = {
      mobile: [await publish(app, org, 'message.sent', { metadata: { source: 'mobile' } })],
      slow: [await publish(app, org, 'message.received', { processingTime: 2000 })],
      serious: [await publish(app, org, 'error.occurred', { severity: 'critical', context: { region: 'eu' } })],
    };
    await publish(app, org, 'message.sent', { metadata: { source: 'web' } });
    await publish(app, org, 'message.sent', { metadata: {}, source: 'mobile' }); // top level is not metadata.source
    await publish(app, org, 'message.received', { processingTime: 1999 });
    await publish(app, org, 'message.received', { processingTime: 10_000 });
    await publish(app, org, 'error.occurred', { severity: 'low', context: { region: 'eu' } });
    await publish(app, org, 'error.occurred', { severity: 'high' });
    await publish(app, org, 'error.occurred', { severity: 'high', context: { region: null } });
    want.mobile.push(await publish(app, org, 'message.received', { metadata: { source: 'mobile' }, processingTime: 5 }));
    want.slow.push(await publish(app, org, 'message.received', { processingTime: 9999.5 }));
    want.serious.push(await publish(app, org, 'error.occurred', { severity: 'high', context: { region: 'us' } }));

    const hooks = { mobile, slow, serious };
    await waitFor(() => Object.entries(hooks).every(([k, h]) => rx.at(h.path).length >= want[k as keyof typeof want].length), 15_000);
    await new Promise((r) => setTimeout(r, 500)); // anything that should not arrive would have by now
    for (const [name, h] of Object.entries(hooks)) {
      const got = rx.at(h.path).map((r) => JSON.parse(r.body).id as string);
      assert.deepEqual(got.sort(), want[name as keyof typeof want].map((e) => e.id).sort(), name);
    }
  });

  test('bad filters are a 400 naming the field, and leave the stored webhook unchanged', async () => {
    const hook = await hookFor(app, rx.url, { events: ['*'], filters: { userId: ['user-*'] } }, a);
    const res = await app.http
      .patch(`/api/v1/webhooks/${hook.id}`)
      .set(a.auth)
      .send({ filters: { 'metadata.__proto__.x': ['1'], companionId: [STARS_17], t: { gte: '5' } } })
      .expect(400);
    assert.equal(res.body.error.code, 'validation_error');
    const got = fields(res.body);
    for (const want of [
      'filters.metadata.__proto__.x: "__proto__" is not allowed',
      'filters.companionId.0: at most 16 "*"',
      'filters.t: a list of values',
    ])
      assert.ok(
        got.some((f) => f.startsWith(want)),
        `${want} in ${JSON.stringify(got)}`,
      );
    assert.deepEqual((await app.http.get(`/api/v1/webhooks/${hook.id}`).set(a.auth).expect(200)).body.filters, { userId: ['user-*'] });
  });

  test('stream patterns past the limits: SSE and WebSocket query → 400, WS subscribe → error frame, Socket.IO → ack error', async () => {
    const sse = await app.http.get(`/api/v1/events/stream?companions=ok,${STARS_17}`).set(a.auth).buffer(true).expect(400);
    assert.ok(
      fields(sse.body).some((f) => f.startsWith('companions.1: at most 16 "*" wildcards')),
      JSON.stringify(sse.body),
    );
    const long = await app.http
      .get(`/api/v1/events/stream?userId=${'x'.repeat(257)}`)
      .set(a.auth)
      .buffer(true)
      .expect(400);
    assert.ok(
      fields(long.body).some((f) => f.startsWith('userId:')),
      JSON.stringify(long.body),
    );

    const refused = await WsClient.open(wsUrl(app, `userId=${STARS_17}&access_token=${encodeURIComponent(a.key)}`)).then(
      () => assert.fail('opened'),
      (err: { status: number; body: { error: { details: ErrorDetail[] } } }) => err,
    );
    assert.equal(refused.status, 400);
    assert.ok(fields(refused.body).some((f) => f.startsWith('userId: at most 16')));

    const ws = await WsClient.open(wsUrl(app, `access_token=${encodeURIComponent(a.key)}`));
    closers.push(ws);
    const err = await ws.request({ type: 'subscribe', requestId: 's1', payload: { companions: [STARS_17] } });
    assert.equal(err.type, 'error');
    assert.equal(err.payload.code, 'validation_error');
    assert.match(JSON.stringify(err.payload.details), /payload\.companions\.0/);
    assert.equal((await ws.request({ type: 'ping', requestId: 'p1' })).type, 'pong', 'the connection stays open');

    const { socket } = sioConnect(app, a.key);
    closers.push(socket);
    await sioConnected(socket);
    const ack = (await socket.timeout(5000).emitWithAck('subscribe', { userId: STARS_17 })) as {
      error?: { code: string; details: ErrorDetail[] };
    };
    assert.equal(ack.error?.code, 'validation_error');
    assert.ok(ack.error.details.some((d) => d.field === 'payload.userId'));
  });

  test("a pathological pattern costs microseconds: another organization's history stays fast", async () => {
    const stream = new SseClient(sseUrl(app, `companions=${'*a'.repeat(10)}*!,exact`), { key: a.key });
    closers.push(stream);
    await stream.opened;
    const ws = await WsClient.open(wsUrl(app, `access_token=${encodeURIComponent(a.key)}`));
    closers.push(ws);
    assert.equal((await ws.request({ type: 'subscribe', requestId: 's', payload: { userId: `${'*a'.repeat(15)}*!` } })).type, 'ack');
    await publish(app, a, 'message.sent', { companionId: 'a'.repeat(256), userId: 'a'.repeat(256) });
    const matching = await publish(app, a, 'message.sent', { companionId: 'exact' });
    const t = Date.now();
    await app.http.get('/api/v1/events/history?limit=5').set(b.auth).expect(200);
    assert.ok(Date.now() - t < 1_000, `history took ${Date.now() - t} ms`);
    await stream.waitForEvents(1);
    assert.deepEqual(stream.ids(), [matching.id]);
    assert.deepEqual(ws.eventIds(), []);
  });
});
