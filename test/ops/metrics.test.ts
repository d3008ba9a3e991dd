import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { exampleEvents } from '../../src/events/catalog.js';
import { percentileRank } from '../../src/observability/event-metrics.service.js';
import { ADMIN_TOKEN, createOrg, startTestApp, type TestApp, type TestOrg } from '../support/launcher.js';
import { Receiver } from '../support/receiver.js';
import { waitFor } from '../support/time.js';
import { hookFor, type Hook } from '../webhooks/fixtures.js';

/** The receiver's own view of each successful delivery: publish → its response, ms. */
function nearestRank(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[percentileRank(p, sorted.length) - 1];
}

describe('delivery metrics', () => {
  let app: TestApp;
  let rx: Receiver;
  let org: TestOrg;
  let a: Hook;
  let b: Hook;
  /** Publish → the moment the receiver answered 2xx, per event id (receiver clock = app clock: same machine). */
  const answeredAt = new Map<string, number>();
  const publishedAt = new Map<string, number>();

  before(async () => {
    app = await startTestApp();
    rx = await Receiver.start();
    org = await createOrg(app);
    a = await hookFor(app, rx.url, { events: ['companion.activated'], retry: { maxAttempts: 1 } }, org);
    b = await hookFor(app, rx.url, { events: ['message.sent'], retry: { maxAttempts: 3, backoffMultiplier: 1 } }, org);
    // a: 10 events fail for good (500); the others succeed after 0–90 ms. b: every first attempt is a 503, the retry a 200.
    rx.on(a.path, (req, n) => {
      const e = JSON.parse(req.body);
      if (String(e.data.companionId).endsWith('-fail')) return { status: 500 };
      const delayMs = (n % 10) * 10;
      setTimeout(() => answeredAt.set(e.id, Date.now()), delayMs);
      return { status: 200, delayMs };
    });
    const tries = new Map<string, number>();
    rx.on(b.path, (req) => {
      const id = JSON.parse(req.body).id as string;
      tries.set(id, (tries.get(id) ?? 0) + 1);
      return { status: tries.get(id) === 1 ? 503 : 200 };
    });
  });
  after(async () => {
    await app.close();
    await rx.close();
  });

  test('figures match a known workload: 90 successes and 10 failures → 90 %, latency percentiles as the receiver saw them, retries that succeeded', async () => {
    const events = Array.from({ length: 100 }, (_, i) => ({
      type: 'companion.activated',
      data: { ...exampleEvents['companion.activated'], companionId: i % 10 === 3 ? `c-${i}-fail` : `c-${i}` },
    }));
    await app.http.post('/api/v1/events/batch').set(org.auth).send({ events }).expect(202);
    for (let i = 0; i < 5; i++) {
      await app.http.post('/api/v1/events').set(org.auth).send({ type: 'message.sent', data: exampleEvents['message.sent'] }).expect(202);
    }
    const metricsOf = async (path: string) => (await app.http.get(path).set(org.auth).expect(200)).body;
    const forA = await waitFor(
      async () => {
        const m = await metricsOf(`/api/v1/webhooks/${a.id}/metrics?window=5m`);
        return m.deliveryRate.successful + m.deliveryRate.failed === 100 ? m : null;
      },
      20_000,
      100,
    );
    assert.deepEqual(forA.deliveryRate, { successful: 90, failed: 10, percentage: 90 });
    assert.deepEqual(forA.errors, { byType: { http_5xx: 10 }, byStatusCode: { 500: 10 }, retrySuccess: 0 });
    assert.equal(forA.webhookId, a.id);
    assert.equal(forA.window, '5m');

    // The receiver's view: envelope timestamp (publish) → its 2xx answer.
    const history = (await app.http.get('/api/v1/events/history?eventType=companion.activated&limit=1000').set(org.auth).expect(200)).body
      .events as { id: string; timestamp: string }[];
    for (const e of history) publishedAt.set(e.id, Date.parse(e.timestamp));
    await waitFor(() => answeredAt.size === 90);
    const seen = [...answeredAt].map(([id, t]) => t - publishedAt.get(id)!);
    const tolerance = (v: number) => 15 + v * 0.1;
    for (const [p, key] of [
      [50, 'p50'],
      [95, 'p95'],
      [99, 'p99'],
    ] as const) {
      const theirs = nearestRank(seen, p);
      assert.ok(
        Math.abs(forA.latency[key] - theirs) <= tolerance(theirs),
        `${key}: metrics ${forA.latency[key]} ms, receiver ${theirs} ms`,
      );
    }
    const avg = seen.reduce((x, y) => x + y, 0) / seen.length;
    assert.ok(Math.abs(forA.latency.average - avg) <= tolerance(avg), `average: metrics ${forA.latency.average}, receiver ${avg}`);
    assert.ok(forA.latency.p50 <= forA.latency.p95 && forA.latency.p95 <= forA.latency.p99);

    const forB = await waitFor(
      async () => {
        const m = await metricsOf(`/api/v1/webhooks/${b.id}/metrics?window=5m`);
        return m.deliveryRate.successful === 5 ? m : null;
      },
      20_000,
      100,
    );
    assert.deepEqual(forB.errors, { byType: { http_5xx: 5 }, byStatusCode: { 503: 5 }, retrySuccess: 5 });

    const all = await metricsOf('/api/v1/events/metrics?window=5m');
    assert.equal(all.organizationId, org.id);
    assert.deepEqual(all.deliveryRate, { successful: 95, failed: 10, percentage: 90.48 });
    assert.deepEqual(all.errors, { byType: { http_5xx: 15 }, byStatusCode: { 500: 10, 503: 5 }, retrySuccess: 5 });
    assert.equal(all.throughput.averageThroughput, Math.round((105 / 300) * 100) / 100);
    assert.ok(all.throughput.peakThroughput >= 1 && all.throughput.peakThroughput <= 105);
    assert.ok(all.throughput.eventsPerSecond >= 0);

    const text = (await app.http.get('/metrics').set('Authorization', `Bearer ${ADMIN_TOKEN}`).expect(200)).text;
    const families = parsePrometheusTextFormat(text);
    const value = (name: string, labels: Record<string, string> = {}) =>
      Number(
        families.find((f) => f.name === name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value,
      );
    assert.equal(value('humana_webhook_deliveries_total', { outcome: 'success' }), 95);
    assert.equal(value('humana_webhook_deliveries_total', { outcome: 'failed' }), 10);
    assert.equal(value('humana_dead_letter_queue_entries'), 10);
    assert.equal(value('humana_delivery_workers'), 1);
    assert.equal(value('humana_delivery_queue_jobs', { state: 'waiting' }), 0);
    assert.equal(value('humana_event_log_backlog', { group: 'webhooks' }), 0);
    const latency = families.find((f) => f.name === 'humana_webhook_delivery_latency_seconds');
    assert.equal(latency?.type, 'HISTOGRAM');
    // Labelled histograms lose their _count in the parser: read the series line.
    assert.equal(Number(/^humana_webhook_delivery_latency_seconds_count\{transport="http"\} (\d+)$/m.exec(text)?.[1]), 95);
  });

  test('per organization and per webhook: another organization sees nothing, unknown or foreign webhooks 404, bad windows 400', async () => {
    const other = await createOrg(app);
    const empty = (await app.http.get('/api/v1/events/metrics?window=1m').set(other.auth).expect(200)).body;
    assert.deepEqual(empty.deliveryRate, { successful: 0, failed: 0, percentage: null });
    assert.deepEqual(empty.latency, { p50: null, p95: null, p99: null, average: null });
    assert.deepEqual(empty.errors, { byType: {}, byStatusCode: {}, retrySuccess: 0 });
    await app.http.get(`/api/v1/webhooks/${a.id}/metrics`).set(other.auth).expect(404);
    await app.http.get('/api/v1/webhooks/wh_nope/metrics').set(org.auth).expect(404);
    const bad = await app.http.get('/api/v1/events/metrics?window=2h').set(org.auth).expect(400);
    assert.equal(bad.body.error.details[0].field, 'window');
    const dflt = (await app.http.get('/api/v1/events/metrics?window=').set(org.auth).expect(200)).body;
    assert.equal(dflt.window, '1h');
    await app.http.get('/api/v1/events/metrics').expect(401);
  });
});
