import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EVENT_TYPES, HumanaApiError, HumanaEvents, HumanaNetworkError, sampleData, type FetchLike } from '../../sdk/src/index.js';
import { createOrg, Receiver, REPO_ROOT, startTestApp, waitFor, type TestApp, type TestOrg } from './server.js';

describe('sdk client against a running server', () => {
  let app: TestApp;
  let org: TestOrg;
  let sdk: HumanaEvents;
  let receiver: Receiver;

  before(async () => {
    app = await startTestApp();
    org = await createOrg(app);
    sdk = new HumanaEvents({ baseUrl: app.url, apiKey: org.key, retryBaseMs: 20 });
    receiver = await Receiver.start();
  });
  after(async () => {
    await receiver?.close();
    await app?.close();
  });

  it('publishes a typed event and reads it back', async () => {
    const env = await sdk.events.publish({ type: 'message.sent', data: { ...sampleData['message.sent'], content: 'typed' } });
    assert.match(env.id, /^evt_/);
    assert.equal(env.type, 'message.sent');
    assert.equal(env.organizationId, org.id);
    assert.equal(env.data.content, 'typed');
    assert.ok(env.data.timestamp, 'timestamp filled in by the server');
    const got = await sdk.events.get(env.id);
    assert.deepEqual(got, env);
  });

  it('publishes a batch, one result per input, in order', async () => {
    const results = await sdk.events.publishBatch([
      { type: 'chat.started', data: sampleData['chat.started'] },
      { type: 'nope.nope' as 'chat.started', data: sampleData['chat.started'] },
      { type: 'chat.ended', data: sampleData['chat.ended'] },
    ]);
    assert.equal(results.length, 3);
    assert.ok('id' in results[0] && 'id' in results[2]);
    assert.ok('error' in results[1]);
  });

  it('retries a publish whose answer was lost with the same Idempotency-Key: stored once', async () => {
    let calls = 0;
    const keys: string[] = [];
    const flaky: FetchLike = async (url, init) => {
      calls++;
      keys.push(new Headers(init?.headers).get('idempotency-key') ?? '');
      const res = await fetch(url, init);
      if (calls === 1) throw new TypeError('fetch failed (simulated: answer lost after the server stored it)');
      if (calls === 2) return new Response('bad gateway', { status: 502 });
      return res;
    };
    const client = new HumanaEvents({ baseUrl: app.url, apiKey: org.key, fetch: flaky, retryBaseMs: 5 });
    const marker = `idem-${Date.now()}`;
    const env = await client.events.publish({ type: 'chat.started', data: { ...sampleData['chat.started'], sessionId: marker } });
    assert.equal(calls, 3);
    assert.equal(new Set(keys).size, 1, 'the same key on every attempt');
    assert.ok(keys[0].length > 0);
    await waitFor(async () => (await sdk.events.history({ eventType: 'chat.started' }).toArray()).some((e) => e.id === env.id), 5000);
    const stored = (await sdk.events.history({ eventType: 'chat.started' }).toArray()).filter((e) => e.data.sessionId === marker);
    assert.equal(stored.length, 1, 'stored once');
  });

  it('gives up on a dead server with HumanaNetworkError after the retries', async () => {
    const client = new HumanaEvents({ baseUrl: 'http://127.0.0.1:9', apiKey: 'k', retryBaseMs: 1, maxRetries: 2 });
    await assert.rejects(client.events.publish({ type: 'chat.ended', data: sampleData['chat.ended'] }), HumanaNetworkError);
  });

  it('throws typed API errors with status, code, message and details', async () => {
    const bad = new HumanaEvents({ baseUrl: app.url, apiKey: 'hk_wrong' });
    await assert.rejects(bad.events.get('evt_0000000000000000A'), (e: unknown) => e instanceof HumanaApiError && e.status === 401);
    await assert.rejects(
      sdk.events.publish({ type: 'message.sent', data: { messageId: 'm' } as never }),
      (e: unknown) => e instanceof HumanaApiError && e.status === 400 && e.code.length > 0 && e.details.length > 0 && e.message.length > 0,
    );
    await assert.rejects(
      sdk.events.publish({ type: 'no.such' as 'chat.ended', data: {} as never }),
      (e: unknown) => e instanceof HumanaApiError && e.status === 422,
    );
    await assert.rejects(sdk.webhooks.get('wh_missing'), (e: unknown) => e instanceof HumanaApiError && e.status === 404);
  });

  it('iterates the whole history across pages via nextCursor', async () => {
    const other = await createOrg(app);
    const client = new HumanaEvents({ baseUrl: app.url, apiKey: other.key });
    const ids: string[] = [];
    for (let i = 0; i < 7; i++)
      ids.push((await client.events.publish({ type: 'stream.chunk', data: { ...sampleData['stream.chunk'], chunkId: `c${i}` } })).id);
    await waitFor(async () => (await client.events.history({ limit: 1000 }).toArray()).length === 7, 5000);
    let pages = 0;
    for await (const page of client.events.history({ limit: 3 }).pages()) {
      pages++;
      assert.ok(page.length <= 3);
    }
    assert.ok(pages >= 3, `3+ pages, got ${pages}`);
    const all = await client.events.history({ limit: 3 }).toArray();
    assert.deepEqual(
      all.map((e) => e.id),
      [...ids].reverse(),
      'every event, newest first, none twice',
    );
  });

  it('lists the event types', async () => {
    const types = await sdk.eventTypes.list();
    assert.deepEqual(types.map((t) => t.type).sort(), [...EVENT_TYPES].sort());
  });

  it('covers every webhook route', async () => {
    receiver.on('/ok', () => ({ status: 200, body: 'ok' }));
    const created = await sdk.webhooks.create({ url: `${receiver.url}/ok`, events: ['message.*'], description: 'sdk test' });
    assert.match(created.id, /^wh_/);
    assert.match(created.secret, /^whsec_/);
    assert.equal((await sdk.webhooks.get(created.id)).description, 'sdk test');
    const second = await sdk.webhooks.create({ url: `${receiver.url}/ok`, events: ['chat.started'] });
    const listed = [];
    for await (const w of sdk.webhooks.list({ limit: 1 })) listed.push(w.id);
    assert.deepEqual(listed.sort(), [created.id, second.id].sort(), 'list follows nextCursor');
    const put = await sdk.webhooks.update(created.id, { url: `${receiver.url}/ok`, events: ['message.sent'], description: 'replaced' });
    assert.deepEqual(put.events, ['message.sent']);
    const patched = await sdk.webhooks.patch(created.id, { description: 'patched' });
    assert.equal(patched.description, 'patched');
    assert.deepEqual(patched.events, ['message.sent']);
    assert.equal((await sdk.webhooks.secret(created.id)).secret, created.secret);
    const rotated = await sdk.webhooks.rotateSecret(created.id);
    assert.notEqual(rotated.secret, created.secret);
    assert.equal((await sdk.webhooks.secret(created.id)).secret, rotated.secret);
    const test = await sdk.webhooks.test(created.id);
    assert.equal(test.success, true);
    assert.equal(test.statusCode, 200);

    const ev = await sdk.events.publish({ type: 'message.sent', data: sampleData['message.sent'] });
    const delivery = await waitFor(
      async () => (await sdk.webhooks.deliveries(created.id, { status: 'success' }).toArray()).find((d) => d.eventId === ev.id),
      30_000,
    );
    const detail = await sdk.webhooks.delivery(created.id, delivery!.id);
    assert.equal(detail.id, delivery!.id);
    assert.ok(detail.attemptHistory.length >= 1);
    const replayed = await sdk.webhooks.replayDelivery(created.id, delivery!.id);
    assert.match(replayed.deliveryId, /^del_/);
    const range = await sdk.webhooks.replay(created.id, {
      from: new Date(Date.now() - 60_000).toISOString(),
      to: new Date().toISOString(),
    });
    assert.equal(typeof range, 'object');
    const preview = await sdk.webhooks.transformTest('{ "kind": type, "who": data.userId }', {
      type: 'message.sent',
      data: { userId: 'u1' },
    });
    assert.deepEqual(preview.body, { kind: 'message.sent', who: 'u1' });

    await sdk.webhooks.delete(second.id);
    await assert.rejects(sdk.webhooks.get(second.id), (e: unknown) => e instanceof HumanaApiError && e.status === 404);
    await sdk.webhooks.delete(created.id);
  });

  it('covers every DLQ route', async () => {
    const dlqOrg = await createOrg(app);
    const client = new HumanaEvents({ baseUrl: app.url, apiKey: dlqOrg.key });
    receiver.on('/reject', () => ({ status: 400, body: 'no' }));
    const hook = await client.webhooks.create({ url: `${receiver.url}/reject`, events: ['chat.ended'], retry: { maxAttempts: 1 } });
    await client.events.publish({ type: 'chat.ended', data: sampleData['chat.ended'] });
    await client.events.publish({ type: 'chat.ended', data: sampleData['chat.ended'] });
    const entries = (await waitFor(async () => {
      const all = await client.dlq.list({ webhookId: hook.id, limit: 1 }).toArray();
      return all.length === 2 ? all : null;
    }, 15_000))!;
    assert.equal(entries[0].event.type, 'chat.ended');
    assert.ok(entries[0].failureReason);
    const one = await client.dlq.retry(entries[0].id);
    assert.match(one.deliveryId, /^del_/);
    const bulk = await client.dlq.retryAll({ webhookId: hook.id });
    assert.equal(typeof bulk.retried, 'number');
    const purged = await client.dlq.purge(new Date(Date.now() + 60_000));
    assert.equal(typeof purged.purged, 'number');
    await waitFor(async () => (await client.dlq.list().toArray()).length === 0 || null, 15_000).catch(() => undefined);
  });
});

describe('generated event types', () => {
  it('regenerating from the compiled catalog yields the committed bytes', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sdk-gen-'));
    try {
      const out = path.join(dir, 'catalog.ts');
      execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts/generate-sdk-types.mjs'), '--out', out], { cwd: REPO_ROOT });
      assert.equal(readFileSync(out, 'utf8'), readFileSync(path.join(REPO_ROOT, 'sdk/src/generated/catalog.ts'), 'utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('has a sample for every built-in type', () => {
    for (const t of EVENT_TYPES) assert.ok(sampleData[t], t);
  });
});
