import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort } from '../../src/config/redis-bootstrap.js';
import { DeliveryStats } from '../../src/delivery/delivery-stats.js';
import { startTestApp, type TestApp } from '../support/launcher.js';
import { Receiver } from '../support/receiver.js';
import { waitFor } from '../support/time.js';
import { arrived, assertSigned, deliveriesOf, deliveryIn, dlqOf, hookFor, publish, until } from './fixtures.js';

describe('webhook delivery', { concurrency: true }, () => {
  let app: TestApp;
  let rx: Receiver;
  before(async () => {
    app = await startTestApp();
    rx = await Receiver.start();
  });
  after(async () => {
    await app.close();
    await rx.close();
  });

  test('signed delivery: every header, the body, the seed signature and Standard Webhooks both verify', async () => {
    const hook = await hookFor(app, rx.url, { events: ['message.sent'], headers: { 'X-Custom-Header': 'value' } });
    const event = await publish(app, hook.org, 'message.sent');
    const [r] = await arrived(rx, hook.path);
    assertSigned(r, hook.secret, { eventId: event.id, eventType: 'message.sent' });
    assert.equal(r.headers['x-custom-header'], 'value');
    assert.deepEqual(JSON.parse(r.body), event, 'body = the envelope');
    const d = await deliveryIn(app, hook, 'success', 1500);
    assert.equal(d.id, r.headers['x-humana-delivery']);
    assert.equal(d.eventId, event.id);
    assert.equal(d.event, 'message.sent');
    assert.equal(d.url, `${rx.url}${hook.path}`);
    assert.equal(d.statusCode, 200);
    assert.equal(d.attempts, 1);
    assert.equal(typeof d.duration, 'number');
    assert.equal(d.attemptHistory.length, 1);
    assert.equal(d.attemptHistory[0].responseBody, 'ok');
  });

  test('retry schedule: 500, 500, 200 → 3 attempts ~2 s and ~4 s apart, same webhook-id and delivery id', async () => {
    const hook = await hookFor(app, rx.url, { events: ['chat.*'], retry: { maxAttempts: 3, backoffMultiplier: 2, maxDelay: 300 } });
    rx.on(hook.path, (_r, n) => (n < 3 ? { status: 500, body: 'boom' } : { status: 200 }));
    const event = await publish(app, hook.org, 'chat.started');
    const got = await arrived(rx, hook.path, 3, 15_000);
    const gap1 = got[1].at - got[0].at;
    const gap2 = got[2].at - got[1].at;
    assert.ok(gap1 >= 1900 && gap1 < 3500, `first gap ${gap1} ms`);
    assert.ok(gap2 >= 3900 && gap2 < 5500, `second gap ${gap2} ms`);
    assert.deepEqual(new Set(got.map((r) => r.headers['webhook-id'])), new Set([event.id]));
    assert.equal(new Set(got.map((r) => r.headers['x-humana-delivery'])).size, 1);
    for (const r of got) assertSigned(r, hook.secret, { eventId: event.id, eventType: 'chat.started' });
    const d = await deliveryIn(app, hook, 'success', 1500);
    assert.equal(d.attempts, 3);
    assert.deepEqual(
      d.attemptHistory.map((a) => a.statusCode),
      [500, 500, 200],
    );
    assert.deepEqual(
      d.attemptHistory.map((a) => a.attempt),
      [1, 2, 3],
    );
    assert.equal(d.attemptHistory[0].responseBody, 'boom');
    assert.equal(d.attemptHistory[0].error, 'HTTP 500');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(rx.at(hook.path).length, 3, 'no attempt after success');
  });

  test('429 with Retry-After: 1 replaces the 10 s scheduled wait', async () => {
    const hook = await hookFor(app, rx.url, { events: ['chat.*'], retry: { maxAttempts: 3, backoffMultiplier: 10, maxDelay: 300 } });
    rx.on(hook.path, (_r, n) => (n === 1 ? { status: 429, headers: { 'Retry-After': '1' } } : { status: 204 }));
    await publish(app, hook.org, 'chat.ended');
    const got = await arrived(rx, hook.path, 2, 8000);
    const gap = got[1].at - got[0].at;
    assert.ok(gap >= 900 && gap < 4000, `gap ${gap} ms (the schedule alone would wait 10 s)`);
    const d = await deliveryIn(app, hook, 'success', 1500);
    assert.deepEqual(
      d.attemptHistory.map((a) => a.statusCode),
      [429, 204],
    );
  });

  test('400 → no retry, straight to the DLQ with its attempt; error.occurred published for the organization', async () => {
    const hook = await hookFor(app, rx.url, { events: ['companion.*'] });
    rx.on(hook.path, () => ({ status: 400, body: '{"error":"bad"}' }));
    const event = await publish(app, hook.org, 'companion.activated');
    const d = await deliveryIn(app, hook, 'failed');
    assert.equal(d.attempts, 1);
    assert.equal(d.statusCode, 400);
    const [entry] = await until(() => dlqOf(app, hook).then((l) => (l.length ? l : null)));
    assert.equal(entry.originalWebhook.id, hook.id);
    assert.equal((entry.originalWebhook as unknown as Record<string, unknown>).secret, undefined);
    assert.equal((entry.event as { id: string }).id, event.id);
    assert.equal(entry.attempts.length, 1);
    assert.equal(entry.attempts[0].responseBody, '{"error":"bad"}');
    assert.match(entry.failureReason, /HTTP 400/);
    assert.ok(entry.createdAt && entry.lastAttempt);
    const err = await waitFor(async () => {
      const h = await app.http.get('/api/v1/events/history?eventType=error.occurred').set(hook.org.auth).expect(200);
      return h.body.events[0];
    });
    assert.equal(err.data.type, 'integration');
    assert.equal(err.data.severity, 'high');
    assert.match(err.data.message, new RegExp(hook.id));
    assert.match(err.data.message, /HTTP 400/);
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(rx.at(hook.path).length, 1, 'never retried');
  });

  test('deliveries of error.occurred that fail do not publish another error.occurred (no feedback loop)', async () => {
    const hook = await hookFor(app, rx.url, { events: ['*'], retry: { maxAttempts: 1, backoffMultiplier: 1, maxDelay: 1 } });
    rx.on(hook.path, () => ({ status: 410 }));
    await publish(app, hook.org, 'companion.activated');
    // companion.activated fails → error.occurred #1 → its delivery fails too, but publishes nothing more.
    await waitFor(() => rx.at(hook.path).length >= 2);
    await new Promise((r) => setTimeout(r, 1500));
    const h = await app.http.get('/api/v1/events/history?eventType=error.occurred').set(hook.org.auth).expect(200);
    assert.equal(h.body.events.length, 1);
    assert.equal(rx.at(hook.path).length, 2);
  });

  test('a receiver that never answers: timeoutMs, retried (timeouts are retryable), then DLQ', async () => {
    const hook = await hookFor(app, rx.url, {
      events: ['stream.*'],
      timeoutMs: 300,
      retry: { maxAttempts: 2, backoffMultiplier: 1, maxDelay: 1 },
    });
    rx.on(hook.path, () => 'hang');
    await publish(app, hook.org, 'stream.started');
    const d = await deliveryIn(app, hook, 'failed', 10_000);
    assert.equal(d.attempts, 2);
    for (const a of d.attemptHistory) {
      assert.equal(a.statusCode, null);
      assert.match(String(a.error), /timeout after 300 ms/);
      assert.ok(a.duration >= 290 && a.duration < 2000, String(a.duration));
    }
    assert.equal((await dlqOf(app, hook)).length, 1);
    // The exhausted retry job stays in BullMQ's failed set too (visible in Bull Board).
    const failed = await app.running.app.get(DeliveryStats).queueCounts();
    assert.ok(failed.failed >= 1, JSON.stringify(failed));
  });

  test('operations surface: DeliveryStats counts DLQ entries and active webhooks per organization, and live workers', async () => {
    const stats = app.running.app.get(DeliveryStats);
    const hook = await hookFor(app, rx.url, { events: ['quota.*'], retry: { maxAttempts: 1, backoffMultiplier: 1, maxDelay: 1 } });
    await hookFor(app, rx.url, { events: ['quota.*'], enabled: false }, hook.org);
    rx.on(hook.path, () => ({ status: 404 }));
    assert.equal(await stats.activeWebhooks(hook.org.id), 1);
    assert.equal(await stats.dlqSize(hook.org.id), 0);
    await publish(app, hook.org, 'quota.warning');
    await waitFor(async () => (await stats.dlqSize(hook.org.id)) === 1);
    assert.ok((await stats.dlqSize()) >= 1);
    assert.ok((await stats.activeWebhooks()) >= 1);
    const workers = await stats.liveWorkers();
    assert.equal(workers.length, 1, 'this app runs one delivery worker');
    assert.match(workers[0], new RegExp(`-${process.pid}$`));
  });

  test('connection refused is retryable and ends in the DLQ', async () => {
    const port = await freePort();
    const hook = await hookFor(app, `http://127.0.0.1:${port}`, {
      events: ['stream.*'],
      retry: { maxAttempts: 2, backoffMultiplier: 1, maxDelay: 1 },
    });
    await publish(app, hook.org, 'stream.chunk');
    const d = await deliveryIn(app, hook, 'failed', 10_000);
    assert.equal(d.attempts, 2);
    assert.match(String(d.attemptHistory[0].error), /ECONNREFUSED/);
    const [entry] = await dlqOf(app, hook);
    assert.match(entry.failureReason, /ECONNREFUSED/);
  });

  test('a redirect is not followed and fails without retry', async () => {
    const hook = await hookFor(app, rx.url, { events: ['message.*'] });
    rx.on(hook.path, () => ({ status: 302, headers: { Location: `${rx.url}${hook.path}-target` } }));
    await publish(app, hook.org, 'message.received');
    const d = await deliveryIn(app, hook, 'failed');
    assert.equal(d.attempts, 1);
    assert.equal(d.statusCode, 302);
    assert.match(String(d.error), /redirect 302 not followed/);
    assert.equal(rx.at(`${hook.path}-target`).length, 0);
    assert.equal((await dlqOf(app, hook)).length, 1);
  });

  test('a 10 MB response body: success recorded, only the first 2 KiB kept', async () => {
    const hook = await hookFor(app, rx.url, { events: ['message.*'] });
    rx.on(hook.path, () => ({ status: 200, body: Buffer.alloc(10 * 1024 * 1024, 'a') }));
    await publish(app, hook.org, 'message.sent');
    const d = await deliveryIn(app, hook, 'success');
    assert.equal(d.attemptHistory[0].responseBody.length, 2048);
  });

  test('filters and patterns: companion lists, user-* wildcards, message.*; non-matching events never arrive', async () => {
    const a = await hookFor(app, rx.url, { events: ['message.*'], filters: { companionId: ['comp-1', 'comp-2'] } });
    const b = await hookFor(app, rx.url, { events: ['*'], filters: { userId: ['user-*'] } }, a.org);
    const c = await hookFor(app, rx.url, { events: ['chat.started'] }, a.org);
    const sent = [
      await publish(app, a.org, 'message.sent', { companionId: 'comp-1', userId: 'user-1' }), // a, b
      await publish(app, a.org, 'message.received', { companionId: 'comp-2', userId: 'bot-1' }), // a
      await publish(app, a.org, 'message.sent', { companionId: 'comp-3', userId: 'bot-2' }), // none
      await publish(app, a.org, 'chat.started', { companionId: 'comp-1', userId: 'admin' }), // c
      await publish(app, a.org, 'chat.ended', { companionId: 'comp-1', userId: 'user-9' }), // b
      await publish(app, a.org, 'companion.activated', {}), // none (no userId)
    ];
    const ids = (path: string) =>
      rx
        .at(path)
        .map((r) => JSON.parse(r.body).id as string)
        .sort();
    await waitFor(() => ids(a.path).length === 2 && ids(b.path).length === 2 && ids(c.path).length === 1);
    // A last event matching everything: once it arrived, everything before it was matched.
    await publish(app, a.org, 'message.sent', { companionId: 'comp-1', userId: 'user-last' });
    await waitFor(() => ids(a.path).length === 3 && ids(b.path).length === 3);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(ids(a.path).slice(0, 2), [sent[0].id, sent[1].id].sort());
    assert.deepEqual(ids(b.path).slice(0, 2), [sent[0].id, sent[4].id].sort());
    assert.deepEqual(ids(c.path), [sent[3].id]);
    // Another organization's events never reach these webhooks.
    const stranger = await hookFor(app, rx.url, { events: ['*'] });
    await publish(app, stranger.org, 'message.sent', { companionId: 'comp-1', userId: 'user-1' });
    await waitFor(() => rx.at(stranger.path).length === 1);
    assert.equal(ids(a.path).length, 3);
  });

  test('disabling a webhook stops its pending retries; another webhook is not affected', async () => {
    const hook = await hookFor(app, rx.url, { events: ['usage.*'], retry: { maxAttempts: 5, backoffMultiplier: 2, maxDelay: 300 } });
    const bystander = await hookFor(
      app,
      rx.url,
      { events: ['usage.*'], retry: { maxAttempts: 3, backoffMultiplier: 1, maxDelay: 1 } },
      hook.org,
    );
    rx.on(hook.path, () => ({ status: 503 }));
    rx.on(bystander.path, (_r, n) => (n === 1 ? { status: 503 } : { status: 200 }));
    await publish(app, hook.org, 'usage.recorded');
    await deliveryIn(app, hook, 'retrying');
    await app.http.patch(`/api/v1/webhooks/${hook.id}`).set(hook.org.auth).send({ enabled: false }).expect(200);
    const d = await deliveryIn(app, hook, 'failed', 3000);
    assert.match(String(d.error), /disabled/);
    await deliveryIn(app, bystander, 'success', 5000);
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(rx.at(hook.path).length, 1, 'the scheduled retry (2 s) never ran');
    assert.equal(rx.at(bystander.path).length, 2);
  });

  test('deleting a webhook stops its pending retries', async () => {
    const hook = await hookFor(app, rx.url, { events: ['usage.*'], retry: { maxAttempts: 5, backoffMultiplier: 2, maxDelay: 300 } });
    rx.on(hook.path, () => ({ status: 500 }));
    await publish(app, hook.org, 'usage.recorded');
    await deliveryIn(app, hook, 'retrying');
    await app.http.delete(`/api/v1/webhooks/${hook.id}`).set(hook.org.auth).expect(204);
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(rx.at(hook.path).length, 1);
  });

  test('POST …/test sends a signed webhook.test event now and reports the attempt', async () => {
    const hook = await hookFor(app, rx.url, { events: ['message.sent'] });
    const ok = await app.http.post(`/api/v1/webhooks/${hook.id}/test`).set(hook.org.auth).expect(200);
    assert.equal(ok.body.success, true);
    assert.equal(ok.body.statusCode, 200);
    assert.equal(typeof ok.body.duration, 'number');
    assert.equal(ok.body.error, null);
    const [r] = rx.at(hook.path);
    const body = JSON.parse(r.body);
    assert.equal(body.type, 'webhook.test');
    assertSigned(r, hook.secret, { eventId: body.id, eventType: 'webhook.test' });
    rx.on(hook.path, () => ({ status: 500 }));
    const bad = await app.http.post(`/api/v1/webhooks/${hook.id}/test`).set(hook.org.auth).expect(200);
    assert.deepEqual(
      { success: bad.body.success, statusCode: bad.body.statusCode, error: bad.body.error },
      { success: false, statusCode: 500, error: 'HTTP 500' },
    );
  });

  test('replay of a delivery: a new delivery of the same event (same webhook-id), audited', async () => {
    const hook = await hookFor(app, rx.url, { events: ['message.sent'] });
    const event = await publish(app, hook.org, 'message.sent');
    const first = await deliveryIn(app, hook, 'success');
    const res = await app.http.post(`/api/v1/webhooks/${hook.id}/deliveries/${first.id}/replay`).set(hook.org.auth).expect(202);
    assert.match(res.body.deliveryId, /^del_/);
    assert.notEqual(res.body.deliveryId, first.id);
    const got = await arrived(rx, hook.path, 2);
    assert.equal(got[1].headers['webhook-id'], event.id);
    assert.equal(got[1].headers['x-humana-delivery'], res.body.deliveryId);
    assert.equal(got[1].body, got[0].body);
    await waitFor(async () => (await deliveriesOf(app, hook, '?status=success')).length === 2);
    await app.http.post(`/api/v1/webhooks/${hook.id}/deliveries/del_nope/replay`).set(hook.org.auth).expect(404);
    const audit = await app.http.get('/api/v1/audit-log?action=delivery.replayed').set(hook.org.auth).expect(200);
    assert.equal(audit.body.entries[0].resourceId, first.id);
  });

  test('secret rotation: both secrets verify during the grace period; X-Humana-Signature uses the new one', async () => {
    const hook = await hookFor(app, rx.url, { events: ['message.sent'] });
    const rot = await app.http.post(`/api/v1/webhooks/${hook.id}/secret/rotate`).set(hook.org.auth).send({}).expect(200);
    await new Promise((r) => setTimeout(r, 300)); // the index learns of the change through Redis pub/sub
    const event = await publish(app, hook.org, 'message.sent');
    const [r] = await arrived(rx, hook.path);
    assert.equal(String(r.headers['webhook-signature']).split(' ').length, 2);
    assertSigned(r, rot.body.secret, { eventId: event.id, eventType: 'message.sent' }, [hook.secret]);
  });

  test('transform: the body is the JSONata result, signed as sent', async () => {
    const hook = await hookFor(app, rx.url, {
      events: ['message.received'],
      transform: '{"chatId": data.messageId, "message": data.response, "sender": data.companionId}',
    });
    const event = await publish(app, hook.org, 'message.received');
    const [r] = await arrived(rx, hook.path);
    assert.deepEqual(JSON.parse(r.body), { chatId: 'msg-2', message: 'Hi!', sender: 'comp-123' });
    assertSigned(r, hook.secret, { eventId: event.id, eventType: 'message.received' });
  });

  test('batch delivery: {events:[…]} of at most maxSize, after maxWaitMs for the rest, signed', async () => {
    const hook = await hookFor(app, rx.url, { events: ['stream.chunk'], batch: { maxSize: 5, maxWaitMs: 400 } });
    const res = await app.http
      .post('/api/v1/events/batch')
      .set(hook.org.auth)
      .send({
        events: Array.from({ length: 12 }, (_, i) => ({
          type: 'stream.chunk',
          data: { streamId: 's', chunkId: `c${i}`, content: 'x', isComplete: false },
        })),
      })
      .expect(202);
    const sent = res.body.results.map((r: { id: string }) => r.id);
    await waitFor(() => rx.at(hook.path).reduce((n, r) => n + JSON.parse(r.body).events.length, 0) >= 12, 8000);
    const batches = rx.at(hook.path);
    assert.ok(batches.every((b) => JSON.parse(b.body).events.length <= 5));
    assert.deepEqual(batches.flatMap((b) => JSON.parse(b.body).events.map((e: { id: string }) => e.id)).sort(), [...sent].sort());
    for (const b of batches) {
      assert.equal(b.headers['x-humana-event'], 'batch');
      assertSigned(b, hook.secret, { eventId: String(b.headers['x-humana-delivery']), eventType: 'batch' });
    }
    const ds = await until(async () => {
      const l = await deliveriesOf(app, hook, '?status=success');
      return l.length === batches.length ? l : null;
    });
    assert.ok(ds.every((d) => d.event === 'batch'));
  });

  test('event replay: POST …/replay {from, to, eventTypes} re-delivers retained matching events', async () => {
    const hook = await hookFor(app, rx.url, { events: ['message.*', 'chat.*'] });
    const from = new Date().toISOString();
    const e1 = await publish(app, hook.org, 'message.sent');
    await publish(app, hook.org, 'chat.started');
    const e3 = await publish(app, hook.org, 'message.received');
    await publish(app, hook.org, 'companion.activated');
    await waitFor(() => rx.at(hook.path).length === 3);
    const to = new Date().toISOString();
    await waitFor(async () => (await app.http.get('/api/v1/events/history').set(hook.org.auth)).body.events.length === 4);
    const res = await app.http
      .post(`/api/v1/webhooks/${hook.id}/replay`)
      .set(hook.org.auth)
      .send({ from, to, eventTypes: ['message.sent', 'message.received'] })
      .expect(202);
    assert.deepEqual(res.body, { replayed: 2, truncated: false });
    await waitFor(() => rx.at(hook.path).length === 5);
    assert.deepEqual(
      rx
        .at(hook.path)
        .slice(3)
        .map((r) => r.headers['webhook-id'])
        .sort(),
      [e1.id, e3.id].sort(),
    );
    const bad = await app.http.post(`/api/v1/webhooks/${hook.id}/replay`).set(hook.org.auth).send({ from: to, to: from }).expect(400);
    assert.deepEqual(
      bad.body.error.details.map((d: { field: string }) => d.field),
      ['to'],
    );
  });
});
