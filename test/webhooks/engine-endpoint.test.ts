import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { exampleEvents } from '../../src/events/catalog.js';
import { startTestApp, type TestApp } from '../support/launcher.js';
import { waitFor } from '../support/time.js';
import { deliveriesOf, dlqOf, hookFor, publish, until, type Hook } from './fixtures.js';
import { Receiver } from '../support/receiver.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('delivery engine: endpoint health, breaker, pause, auto-disable, ordering', { concurrency: true }, () => {
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

  const view = async (hook: Hook) => (await app.http.get(`/api/v1/webhooks/${hook.id}`).set(hook.org.auth).expect(200)).body;
  const ids = (hook: Hook, ok = true) =>
    rx
      .at(hook.path)
      .filter((_r, i, all) => !ok || okAt(hook, all[i]))
      .map((r) => String(r.headers['webhook-id']));
  const answered = new WeakMap<object, number>();
  const okAt = (_hook: Hook, r: object) => answered.get(r) === 200;

  test('breaker: opens after the threshold, holds (no attempts reach the dead receiver), probes, then drains in order with nothing lost', async () => {
    const hook = await hookFor(app, rx.url, {
      events: ['message.*'],
      circuitBreaker: { failureThreshold: 3, probeIntervalMs: 1000 },
      retry: { maxAttempts: 3, backoffMultiplier: 1, maxDelay: 1 },
    });
    let alive = false;
    rx.on(hook.path, (r) => {
      const status = alive ? 200 : 503;
      answered.set(r, status);
      return { status };
    });
    const v0 = await view(hook);
    assert.deepEqual(v0.health, {
      state: 'healthy',
      consecutiveFailures: 0,
      lastSuccessAt: null,
      lastFailureAt: null,
      disabledAt: null,
      disabledReason: null,
    });
    assert.equal(v0.paused, false);
    assert.deepEqual(v0.circuitBreaker, { failureThreshold: 3, probeIntervalMs: 1000 });

    const first = [];
    for (let i = 0; i < 3; i++) first.push(await publish(app, hook.org, 'message.sent', { content: `f${i}` }));
    const open = await until(async () => {
      const v = await view(hook);
      return v.health.state === 'circuit_open' ? v : null;
    });
    assert.ok(open.health.consecutiveFailures >= 3);
    assert.ok(open.health.lastFailureAt);
    const openedAt = Date.now();
    const attemptsAtOpen = rx.at(hook.path).length;
    const later = [];
    for (let i = 0; i < 5; i++) later.push(await publish(app, hook.org, 'message.sent', { content: `l${i}` }));
    await sleep(3500);
    const held = rx.at(hook.path).length - attemptsAtOpen;
    const elapsed = Date.now() - openedAt;
    // Only probes reach the receiver while open: one per probe interval (and the retries of the first three are held).
    assert.ok(held <= Math.ceil(elapsed / 1000) + 1, `${held} attempts in ${elapsed} ms while the circuit was open`);
    assert.equal((await dlqOf(app, hook)).length, 0, 'held deliveries do not use up their attempts');
    const backlog = (await app.http.get(`/api/v1/webhooks/${hook.id}/backlog`).set(hook.org.auth).expect(200)).body;
    assert.ok(backlog.pending >= 7, `backlog ${JSON.stringify(backlog)}`);

    alive = true;
    const all = [...first, ...later].map((e) => e.id);
    await waitFor(() => all.every((id) => ids(hook).includes(id)), 10_000).catch(async (err) => {
      const b = (await app.http.get(`/api/v1/webhooks/${hook.id}/backlog`).set(hook.org.auth)).body;
      console.log(
        'DEBUG',
        JSON.stringify(b),
        JSON.stringify((await view(hook)).health),
        rx
          .at(hook.path)
          .map((r) => `${String(r.headers['webhook-id']).slice(-4)}:${answered.get(r)}`)
          .join(' '),
        all.map((i) => i.slice(-4)).join(' '),
      );
      throw err;
    });
    const okOrder = ids(hook);
    assert.deepEqual(okOrder, [...okOrder].sort(), 'drained in log order');
    assert.equal(new Set(okOrder).size, all.length, 'each delivered once after recovery');
    const v = await view(hook);
    assert.equal(v.health.state, 'healthy');
    assert.equal(v.health.consecutiveFailures, 0);
    assert.ok(v.health.lastSuccessAt);
    assert.equal((await dlqOf(app, hook)).length, 0);
    await waitFor(async () => (await deliveriesOf(app, hook, '?status=success')).length === all.length);
  });

  test('pause → publish → nothing arrives, backlog counts → resume → all arrive in log order', async () => {
    const hook = await hookFor(app, rx.url, { events: ['chat.*'] });
    rx.on(hook.path, (r) => (answered.set(r, 200), { status: 200 }));
    const paused = (await app.http.post(`/api/v1/webhooks/${hook.id}/pause`).set(hook.org.auth).expect(200)).body;
    assert.equal(paused.paused, true);
    assert.equal(paused.id, hook.id);
    const events = [];
    for (let i = 0; i < 20; i++) events.push(await publish(app, hook.org, i % 2 ? 'chat.started' : 'chat.ended'));
    const backlog = await until(async () => {
      const b = (await app.http.get(`/api/v1/webhooks/${hook.id}/backlog`).set(hook.org.auth).expect(200)).body;
      return b.pending === 20 ? b : null;
    });
    assert.equal(backlog.oldestAt, new Date(Date.parse(events[0].timestamp)).toISOString());
    await sleep(500);
    assert.equal(rx.at(hook.path).length, 0, 'nothing attempted while paused');
    assert.equal((await dlqOf(app, hook)).length, 0);
    assert.equal((await view(hook)).paused, true);

    const resumed = (await app.http.post(`/api/v1/webhooks/${hook.id}/resume`).set(hook.org.auth).expect(200)).body;
    assert.equal(resumed.paused, false);
    const got = await until(() => (rx.at(hook.path).length >= 20 ? rx.at(hook.path) : null));
    assert.deepEqual(
      got.map((r) => r.headers['webhook-id']),
      events.map((e) => e.id),
      'in log order',
    );
    await waitFor(
      async () => (await app.http.get(`/api/v1/webhooks/${hook.id}/backlog`).set(hook.org.auth).expect(200)).body.pending === 0,
    );
    const after = (await app.http.get(`/api/v1/webhooks/${hook.id}/backlog`).set(hook.org.auth).expect(200)).body;
    assert.deepEqual(after, { pending: 0, oldestAt: null });
    const audit = (await app.http.get('/api/v1/audit-log?limit=100').set(hook.org.auth).expect(200)).body.entries.map(
      (e: { action: string }) => e.action,
    );
    assert.ok(audit.includes('webhook.paused') && audit.includes('webhook.resumed'));
  });

  test('auto-disable: failing for afterMs with minFailures dead letters → disabled, error.occurred (critical) and audit; PATCH enabled resets health', async () => {
    const hook = await hookFor(app, rx.url, {
      events: ['companion.*'],
      autoDisable: { afterMs: 600, minFailures: 3 },
      circuitBreaker: { failureThreshold: 1000, probeIntervalMs: 1000 },
      retry: { maxAttempts: 1, backoffMultiplier: 1, maxDelay: 1 },
    });
    rx.on(hook.path, () => ({ status: 500 }));
    await publish(app, hook.org, 'companion.updated');
    await until(async () => ((await dlqOf(app, hook)).length === 1 ? true : null));
    await sleep(700);
    for (let i = 0; i < 3; i++) await publish(app, hook.org, 'companion.updated');
    const v = await until(async () => {
      const w = await view(hook);
      return w.enabled === false ? w : null;
    });
    assert.equal(v.health.state, 'disabled');
    assert.ok(v.health.disabledAt);
    assert.match(v.health.disabledReason, /failed/);
    const event = await until(async () => {
      const h = (await app.http.get('/api/v1/events/history?eventType=error.occurred&limit=100').set(hook.org.auth).expect(200)).body
        .events;
      return h.find((e: { data: { severity: string } }) => e.data.severity === 'critical');
    });
    assert.equal(event.data.type, 'integration');
    assert.ok(event.data.message.includes(hook.id));
    assert.equal(event.data.context.webhookId, hook.id);
    const audit = (await app.http.get('/api/v1/audit-log?limit=100').set(hook.org.auth).expect(200)).body.entries;
    const entry = audit.find((e: { action: string }) => e.action === 'webhook.auto_disabled');
    assert.ok(entry, 'audit entry');
    assert.equal(entry.resourceId, hook.id);

    const re = (await app.http.patch(`/api/v1/webhooks/${hook.id}`).set(hook.org.auth).send({ enabled: true }).expect(200)).body;
    assert.equal(re.enabled, true);
    assert.deepEqual(re.health, {
      state: 'healthy',
      consecutiveFailures: 0,
      lastSuccessAt: null,
      lastFailureAt: null,
      disabledAt: null,
      disabledReason: null,
    });
  });

  test('ordering per key: a failing delivery holds back only its key; order kept across retries; gap-free X-Humana-Sequence', async () => {
    const hook = await hookFor(app, rx.url, {
      events: ['message.*'],
      ordering: { key: 'companionId' },
      // a2's retry waits 3 s: long enough for b3 and b4 to arrive first however loaded the machine is
      retry: { maxAttempts: 5, backoffMultiplier: 3, maxDelay: 3 },
    });
    let failedOnce = false;
    rx.on(hook.path, (r) => {
      const body = JSON.parse(r.body);
      if (body.data.content === 'a2' && !failedOnce) {
        failedOnce = true;
        answered.set(r, 500);
        return { status: 500 };
      }
      answered.set(r, 200);
      return { status: 200 };
    });
    // One batch: the log order is a1 b1 a2 b2 … and every event is in the log before a2's retry is due.
    const events = [1, 2, 3, 4].flatMap((i) => [
      { type: 'message.sent', data: { ...exampleEvents['message.sent'], companionId: 'comp-a', content: `a${i}` } },
      { type: 'message.sent', data: { ...exampleEvents['message.sent'], companionId: 'comp-b', content: `b${i}` } },
    ]);
    await app.http.post('/api/v1/events/batch').set(hook.org.auth).send({ events }).expect(202);
    await until(() => (rx.at(hook.path).filter((r) => answered.get(r) === 200).length >= 8 ? true : null), 15_000);
    const got = rx.at(hook.path).map((r) => ({
      content: JSON.parse(r.body).data.content as string,
      seq: r.headers['x-humana-sequence'],
      ok: answered.get(r) === 200,
      at: r.at,
    }));
    const a = got.filter((g) => g.content.startsWith('a'));
    const b = got.filter((g) => g.content.startsWith('b'));
    assert.deepEqual(
      a.map((g) => g.content),
      ['a1', 'a2', 'a2', 'a3', 'a4'],
      'a2 retried before a3',
    );
    assert.deepEqual(
      a.map((g) => g.seq),
      ['1', '2', '2', '3', '4'],
      'a retried delivery keeps its number',
    );
    assert.deepEqual(
      b.map((g) => g.content),
      ['b1', 'b2', 'b3', 'b4'],
    );
    assert.deepEqual(
      b.map((g) => g.seq),
      ['1', '2', '3', '4'],
    );
    const a2ok = a.find((g) => g.content === 'a2' && g.ok)!;
    assert.ok(b[3].at < a2ok.at, 'key b kept flowing while a2 waited for its retry');
  });

  test('A/B variants: split by weight within tolerance, one variant per delivery, recorded and measured per variant', async () => {
    const tag = Math.random().toString(36).slice(2, 8);
    const a = `/${tag}-a`;
    const b = `/${tag}-b`;
    const hook = await hookFor(app, rx.url, {
      events: ['message.sent'],
      variants: [
        { url: `${rx.url}${a}`, weight: 3 },
        { url: `${rx.url}${b}`, weight: 1 },
      ],
    });
    rx.on(b, () => ({ status: 400 }));
    const v = await view(hook);
    assert.equal(v.variants.length, 2);
    const bad = await app.http
      .patch(`/api/v1/webhooks/${hook.id}`)
      .set(hook.org.auth)
      .send({ variants: [{ url: 'ftp://x', weight: 1 }] });
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.body), /variants/);
    const N = 300;
    for (let i = 0; i < N; i += 100) {
      const events = Array.from({ length: 100 }, (_, j) => ({
        type: 'message.sent',
        data: { ...exampleEvents['message.sent'], content: `m${i + j}` },
      }));
      const res = await app.http.post('/api/v1/events/batch').set(hook.org.auth).send({ events }).expect(202);
      assert.ok(
        res.body.results.every((r: { id?: string }) => r.id),
        JSON.stringify(res.body.results[0]),
      );
    }
    await until(() => (rx.at(a).length + rx.at(b).length >= N ? true : null), 20_000).catch(async (err) => {
      console.log('DEBUG', rx.at(a).length, rx.at(b).length, JSON.stringify((await view(hook)).health));
      throw err;
    });
    const share = rx.at(a).length / N;
    assert.ok(Math.abs(share - 0.75) < 0.08, `variant a got ${(share * 100).toFixed(1)}% (weight 75%)`);
    const byDelivery = new Map<string, string>();
    for (const r of [...rx.at(a), ...rx.at(b)]) byDelivery.set(String(r.headers['x-humana-delivery']), `${rx.url}${r.path}`);
    const deliveries = await until(async () => {
      const ds = await deliveriesOf(app, hook, '?limit=1000');
      return ds.filter((d) => d.status === 'success' || d.status === 'failed').length === N ? ds : null;
    }, 15_000);
    for (const d of deliveries) assert.equal(d.variant, byDelivery.get(d.id), 'the log records the variant it went to');
    const m = (await app.http.get(`/api/v1/webhooks/${hook.id}/metrics`).set(hook.org.auth).expect(200)).body;
    const va = m.variants.find((x: { url: string }) => x.url === `${rx.url}${a}`);
    const vb = m.variants.find((x: { url: string }) => x.url === `${rx.url}${b}`);
    assert.equal(va.successful, rx.at(a).length);
    assert.equal(va.successRate, 100);
    assert.equal(vb.failed, rx.at(b).length);
    assert.equal(vb.successRate, 0);
    assert.equal(typeof va.averageLatency, 'number');
  });
});
