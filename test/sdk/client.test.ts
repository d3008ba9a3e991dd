import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EVENT_TYPES, HumanaApiError, HumanaEvents, HumanaNetworkError, sampleData, type FetchLike } from '../../sdk/src/index.js';
import { ADMIN_TOKEN, createOrg, Receiver, REPO_ROOT, startTestApp, waitFor, type TestApp, type TestOrg } from './server.js';

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
    const failed = entries[0].event;
    assert.ok(!('events' in failed), 'a single event, not a batch');
    assert.equal(failed.type, 'chat.ended');
    assert.ok(entries[0].failureReason);
    const one = await client.dlq.retry(entries[0].id);
    assert.match(one.deliveryId, /^del_/);
    const bulk = await client.dlq.retryAll({ webhookId: hook.id });
    assert.equal(typeof bulk.retried, 'number');
    const purged = await client.dlq.purge(new Date(Date.now() + 60_000));
    assert.equal(typeof purged.purged, 'number');
    await waitFor(async () => (await client.dlq.list().toArray()).length === 0 || null, 15_000).catch(() => undefined);
  });

  it('pause holds deliveries in the backlog; resume drains it in order', async () => {
    const client = new HumanaEvents({ baseUrl: app.url, apiKey: (await createOrg(app)).key });
    receiver.on('/paused', () => ({ status: 200 }));
    const hook = await client.webhooks.create({ url: `${receiver.url}/paused`, events: ['insight.generated'] });
    const paused = await client.webhooks.pause(hook.id);
    assert.equal(paused.paused, true);
    assert.equal(paused.health.state, 'healthy');
    assert.equal((await client.webhooks.get(hook.id)).paused, true);
    assert.deepEqual(await client.webhooks.backlog(hook.id), { pending: 0, oldestAt: null });
    const first = await client.events.publish({ type: 'insight.generated', data: sampleData['insight.generated'] });
    const second = await client.events.publish({ type: 'insight.generated', data: sampleData['insight.generated'] });
    const held = (await waitFor(async () => {
      const b = await client.webhooks.backlog(hook.id);
      return b.pending === 2 ? b : null;
    }, 15_000))!;
    assert.equal(held.oldestAt, first.timestamp, 'oldestAt: the publish time of the oldest held event');
    assert.equal(receiver.at('/paused').length, 0, 'nothing delivered while paused');

    const resumed = await client.webhooks.resume(hook.id);
    assert.equal(resumed.paused, false);
    await waitFor(() => receiver.at('/paused').length >= 2 || null, 15_000);
    assert.deepEqual(
      receiver.at('/paused').map((r) => r.headers['webhook-id']),
      [first.id, second.id],
    );
    // A held delivery leaves the backlog once its attempt is recorded, just after the receiver answered.
    const drained = await waitFor(async () => {
      const b = await client.webhooks.backlog(hook.id);
      return b.pending === 0 ? b : null;
    }, 15_000);
    assert.deepEqual(drained, { pending: 0, oldestAt: null });
    const m = await client.webhooks.metrics(hook.id, { window: '5m' });
    assert.equal(m.webhookId, hook.id);
    assert.equal(m.window, '5m');
    await waitFor(async () => ((await client.webhooks.metrics(hook.id)).deliveryRate.successful >= 2 ? true : null), 15_000);
    const org = await client.events.metrics();
    assert.equal(org.window, '1h');
    assert.ok(org.deliveryRate.successful >= 2);
    await assert.rejects(
      client.events.metrics({ window: '2d' as '1h' }),
      (e: unknown) => e instanceof HumanaApiError && e.status === 400 && e.details.length > 0,
    );
  });

  it("another organization's webhook is a typed 404 (not_found) on every call", async () => {
    const hook = await sdk.webhooks.create({ url: `${receiver.url}/ok`, events: ['chat.started'] });
    const other = new HumanaEvents({ baseUrl: app.url, apiKey: (await createOrg(app)).key });
    const notFound = (e: unknown) => e instanceof HumanaApiError && e.status === 404 && e.code === 'not_found';
    await assert.rejects(other.webhooks.pause(hook.id), notFound);
    await assert.rejects(other.webhooks.resume(hook.id), notFound);
    await assert.rejects(other.webhooks.backlog(hook.id), notFound);
    await assert.rejects(other.webhooks.metrics(hook.id), notFound);
    await assert.rejects(other.webhooks.get(hook.id), notFound);
    await assert.rejects(other.webhooks.deliveries(hook.id).toArray(), notFound);
    assert.equal((await sdk.webhooks.get(hook.id)).paused, false, 'untouched');
    await sdk.webhooks.delete(hook.id);
  });

  it("events.deliveries: the event's deliveries to every webhook, with paging; another organization's event is a typed 404", async () => {
    const client = new HumanaEvents({ baseUrl: app.url, apiKey: (await createOrg(app)).key, retryBaseMs: 20 });
    const a = await client.webhooks.create({ url: `${receiver.url}/ok`, events: ['chat.started'] });
    const b = await client.webhooks.create({ url: `${receiver.url}/ok`, events: ['chat.*'] });
    const ev = await client.events.publish({ type: 'chat.started', data: sampleData['chat.started'] });
    const all = await waitFor(async () => {
      const got = await client.events.deliveries(ev.id, { limit: 1 }).toArray();
      return got.length === 2 && got.every((d) => d.status === 'success') ? got : null;
    }, 30_000);
    assert.deepEqual(all!.map((d) => d.webhookId).sort(), [a.id, b.id].sort(), 'one per webhook, across pages of one');
    assert.ok(all!.every((d) => d.eventId === ev.id && d.event === 'chat.started' && d.statusCode === 200));
    const quiet = await client.events.publish({ type: 'message.sent', data: sampleData['message.sent'] });
    assert.deepEqual(await client.events.deliveries(quiet.id).toArray(), []);
    await assert.rejects(
      sdk.events.deliveries(ev.id).toArray(),
      (e: unknown) => e instanceof HumanaApiError && e.status === 404 && e.code === 'not_found',
    );
  });

  it('event types: create, get, list, update with the versioning rules, delete, asyncapi', async () => {
    const client = new HumanaEvents({ baseUrl: app.url, apiKey: (await createOrg(app)).key });
    const schema = { type: 'object', required: ['sku'], properties: { sku: { type: 'string' }, qty: { type: 'integer' } } };
    const created = await client.eventTypes.create({
      name: 'inventory.changed',
      description: 'Stock moved.',
      schema,
      examples: [{ sku: 'a', qty: 1 }],
    });
    assert.deepEqual([created.type, created.builtIn, created.version, created.category], ['inventory.changed', false, 1, 'inventory']);
    assert.deepEqual((await client.eventTypes.get('inventory.changed')).schema, schema);
    assert.equal((await client.eventTypes.get('message.sent')).builtIn, true);
    assert.ok((await client.eventTypes.list()).some((t) => t.type === 'inventory.changed' && !t.builtIn));
    await assert.rejects(
      client.eventTypes.create({ name: 'message.sent', schema }),
      (e: unknown) => e instanceof HumanaApiError && e.status === 409 && e.code === 'built_in_event_type',
    );
    await assert.rejects(
      client.eventTypes.create({ name: 'Bad Name', schema }),
      (e: unknown) => e instanceof HumanaApiError && e.status === 400 && e.details.some((d) => d.field === 'name'),
    );

    const widened = { ...schema, properties: { ...schema.properties, note: { type: 'string' } } };
    const v2 = await client.eventTypes.update('inventory.changed', { schema: widened });
    assert.equal(v2.version, 2);
    const narrowed = { ...widened, required: ['sku', 'note'] };
    await assert.rejects(
      client.eventTypes.update('inventory.changed', { schema: narrowed, examples: [{ sku: 'b', note: 'n' }] }),
      (e: unknown) => e instanceof HumanaApiError && e.status === 409 && e.code === 'incompatible_schema' && e.details.length > 0,
    );
    const forced = await client.eventTypes.update(
      'inventory.changed',
      { schema: narrowed, examples: [{ sku: 'b', note: 'n' }] },
      { force: true },
    );
    assert.equal(forced.version, 3);
    assert.deepEqual(forced.examples, [{ sku: 'b', note: 'n' }]);

    const doc = await client.eventTypes.asyncapi();
    assert.equal(doc.asyncapi, '3.0.0');
    assert.ok(JSON.stringify(doc).includes('inventory.changed'), 'own types in the AsyncAPI document');

    const hook = await client.webhooks.create({ url: `${receiver.url}/ok`, events: ['inventory.changed'] });
    await assert.rejects(
      client.eventTypes.delete('inventory.changed'),
      (e: unknown) => e instanceof HumanaApiError && e.status === 409 && e.code === 'event_type_in_use',
    );
    const other = new HumanaEvents({ baseUrl: app.url, apiKey: (await createOrg(app)).key });
    const notFound = (e: unknown) => e instanceof HumanaApiError && e.status === 404 && e.code === 'not_found';
    await assert.rejects(other.eventTypes.get('inventory.changed'), notFound);
    await assert.rejects(other.eventTypes.delete('inventory.changed'), notFound);
    await client.eventTypes.delete('inventory.changed', { force: true });
    await assert.rejects(client.eventTypes.get('inventory.changed'), notFound);
    await client.webhooks.delete(hook.id);
  });

  it('health checks answer without a key; the audit log pages; the admin API with the admin token', async () => {
    const anonymous = new HumanaEvents({ baseUrl: app.url, apiKey: 'none' });
    const health = await anonymous.health.events();
    assert.ok(['healthy', 'degraded', 'unhealthy'].includes(health.status));
    assert.ok('webhook_processor' in health.checks);
    assert.equal(typeof health.metrics.active_sse_connections, 'number');
    assert.equal((await anonymous.health.live()).status, 'ok');
    assert.equal((await anonymous.health.ready()).status, 'ok');

    const client = new HumanaEvents({ baseUrl: app.url, apiKey: (await createOrg(app)).key });
    for (let i = 0; i < 3; i++) await client.webhooks.create({ url: `${receiver.url}/ok`, events: ['chat.ended'], description: `a${i}` });
    const entries = await client.auditLog.list({ action: 'webhook.created', limit: 1 }).toArray();
    assert.equal(entries.length, 3, 'every page followed');
    assert.ok(entries.every((e) => e.action === 'webhook.created' && e.after !== null));
    assert.deepEqual(
      entries.map((e) => e.id),
      [...entries.map((e) => e.id)].sort().reverse(),
      'newest first',
    );

    const admin = new HumanaEvents({ baseUrl: app.url, apiKey: ADMIN_TOKEN }).admin;
    const created = await admin.createOrganization('sdk admin');
    assert.match(created.id, /^org_/);
    assert.ok((await admin.listOrganizations()).some((o) => o.id === created.id));
    assert.deepEqual((await admin.setLimits(created.id, { eventsPerMinute: 100 })).limits, { eventsPerMinute: 100 });
    const readOnly = await admin.createApiKey(created.id, { name: 'reader', scopes: ['events:read'] });
    assert.deepEqual(readOnly.scopes, ['events:read']);
    const reader = new HumanaEvents({ baseUrl: app.url, apiKey: readOnly.key });
    assert.deepEqual(await reader.events.history().toArray(), []);
    await assert.rejects(
      reader.events.publish({ type: 'chat.ended', data: sampleData['chat.ended'] }),
      (e: unknown) => e instanceof HumanaApiError && e.status === 403,
    );
    await admin.revokeApiKey(created.id, readOnly.id);
    await assert.rejects(reader.events.history().toArray(), (e: unknown) => e instanceof HumanaApiError && e.status === 401);
    await assert.rejects(client.admin.listOrganizations(), (e: unknown) => e instanceof HumanaApiError && e.status === 401);
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

  it('the API response types (console and SDK) match the OpenAPI document the server builds', () => {
    execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts/generate-api-types.mjs'), '--check'], { cwd: REPO_ROOT });
  });

  it('has a sample for every built-in type', () => {
    for (const t of EVENT_TYPES) assert.ok(sampleData[t], t);
  });
});
