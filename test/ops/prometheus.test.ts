import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import parsePrometheusTextFormat, { type PromFamily } from 'parse-prometheus-text-format';
import request from 'supertest';
import { freePort } from '../../src/config/redis-bootstrap.js';
import { ADMIN_TOKEN, createOrg, spawnApp, startTestApp, type TestApp } from '../support/launcher.js';
import { Receiver } from '../support/receiver.js';
import { waitFor } from '../support/time.js';
import { hookFor } from '../webhooks/fixtures.js';
import { sampleEvent, setLimits } from './helpers.js';

function family(families: PromFamily[], name: string): PromFamily {
  const f = families.find((x) => x.name === name);
  assert.ok(f, `${name} missing from /metrics`);
  return f;
}

/** The value of the sample whose labels include `labels`. */
function sample(families: PromFamily[], name: string, labels: Record<string, string> = {}): number {
  const s = family(families, name).metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  assert.ok(s, `${name}${JSON.stringify(labels)} missing`);
  return Number(s.value ?? s.count);
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('Prometheus /metrics', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(() => app.close());

  test('protected by ADMIN_TOKEN: Bearer or Basic with the token as password; anything else 401 with a Basic challenge', async () => {
    const none = await app.http.get('/metrics').expect(401);
    assert.match(String(none.headers['www-authenticate']), /^Basic realm="metrics"/);
    assert.equal(none.body.error.code, 'unauthorized');
    await app.http.get('/metrics').set('Authorization', 'Bearer wrong-token-0123456789').expect(401);
    await app.http.get('/metrics').set('Authorization', basic('prometheus', 'wrong')).expect(401);
    const org = await createOrg(app);
    await app.http.get('/metrics').set(org.auth).expect(401);
    await app.http.get('/metrics').set('Authorization', `Bearer ${ADMIN_TOKEN}`).expect(200);
    const viaBasic = await app.http.get('/metrics').set('Authorization', basic('prometheus', ADMIN_TOKEN)).expect(200);
    assert.match(String(viaBasic.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  });

  test('parses; counts published events by type (repeats excluded), refusals by reason, HTTP latency by route, live gauges', async () => {
    const org = await createOrg(app);
    const before = parsePrometheusTextFormat((await app.http.get('/metrics').set('Authorization', `Bearer ${ADMIN_TOKEN}`)).text);
    const sentBefore = family(before, 'humana_events_published_total').metrics.find((m) => m.labels?.type === 'message.sent');
    assert.equal(sentBefore, undefined);
    const msg = {
      type: 'message.sent',
      data: { messageId: 'm', companionId: 'c', userId: 'u', content: 'hi', type: 'text', metadata: {} },
    };
    for (let i = 0; i < 3; i++) await app.http.post('/api/v1/events').set(org.auth).send(msg).expect(202);
    await app.http
      .post('/api/v1/events')
      .set(org.auth)
      .send({ ...msg, id: 'same-1' })
      .expect(202);
    await app.http
      .post('/api/v1/events')
      .set(org.auth)
      .send({ ...msg, id: 'same-1' })
      .expect(202);
    await app.http
      .post('/api/v1/events/batch')
      .set(org.auth)
      .send({ events: [sampleEvent(1), sampleEvent(2), { type: 'nope' }] })
      .expect(202);
    const limited = await createOrg(app);
    await setLimits(app, limited.id, { eventsPerMonth: 1 });
    await app.http.post('/api/v1/events').set(limited.auth).send(sampleEvent()).expect(202);
    await app.http.post('/api/v1/events').set(limited.auth).send(sampleEvent()).expect(429);
    await app.http
      .post('/api/v1/events/batch')
      .set(limited.auth)
      .send({ events: [sampleEvent()] })
      .expect(429);
    await app.http.post('/api/v1/events').set(org.auth).send({ type: 'message.sent', data: {} }).expect(400);

    const text = (await app.http.get('/metrics').set('Authorization', `Bearer ${ADMIN_TOKEN}`).expect(200)).text;
    const families = parsePrometheusTextFormat(text);
    assert.equal(family(families, 'humana_events_published_total').type, 'COUNTER');
    assert.equal(sample(families, 'humana_events_published_total', { type: 'message.sent' }), 4);
    assert.equal(sample(families, 'humana_events_published_total', { type: 'companion.activated' }), 3);
    assert.equal(sample(families, 'humana_events_published_total', { type: 'quota.warning' }), 1);
    assert.equal(sample(families, 'humana_events_published_total', { type: 'quota.exceeded' }), 1);
    assert.equal(sample(families, 'humana_publish_refused_total', { reason: 'quota_exceeded' }), 2);

    // The parser folds the series of a labelled histogram into one (prom2json behaviour): check it is a well-formed
    // histogram; exact counts are asserted on counters and on unlabelled histograms.
    const http = family(families, 'humana_http_request_duration_seconds');
    assert.equal(http.type, 'HISTOGRAM');
    const buckets = Object.entries(http.metrics[0].buckets ?? {})
      .map(([le, n]) => [le === '+Inf' ? Infinity : Number(le), Number(n)])
      .sort((x, y) => x[0] - y[0]);
    assert.equal(buckets.at(-1)?.[0], Infinity);
    assert.ok(
      buckets.every(([, n], i) => i === 0 || n >= buckets[i - 1][1]),
      'cumulative buckets',
    );

    assert.equal(family(families, 'humana_realtime_connections').type, 'GAUGE');
    assert.equal(sample(families, 'humana_realtime_connections', { transport: 'sse' }), 0);
    // 7 customer events (3 + 1 idempotent + 2 batched + 1 limited) + 2 quota announcements, in this app's own Redis
    assert.equal(sample(families, 'humana_event_log_entries'), 9);
    assert.ok(sample(families, 'process_cpu_user_seconds_total') > 0, 'default process metrics');
  });

  test('open when no ADMIN_TOKEN is configured', async () => {
    const open = await startTestApp({ env: { ADMIN_TOKEN: '' } });
    try {
      const res = await open.http.get('/metrics').expect(200);
      assert.ok(parsePrometheusTextFormat(res.text).some((f) => f.name === 'humana_events_published_total'));
    } finally {
      await open.close();
    }
  });

  test('a worker-only process serves its own delivery metrics on METRICS_PORT, with the same protection', async () => {
    const api = await startTestApp({ env: { ROLE: 'api' } });
    const rx = await Receiver.start();
    const port = await freePort();
    const worker = await spawnApp({
      ROLE: 'worker',
      REDIS_URL: api.redis.url,
      DATABASE_URL: api.databaseUrl,
      METRICS_PORT: String(port),
      LOG_LEVEL: 'info',
    });
    try {
      await worker.waitForLine((l) => l.includes('metrics on http'));
      const scrape = request(`http://127.0.0.1:${port}`);
      await scrape.get('/metrics').expect(401);
      const hook = await hookFor(api, rx.url, { events: ['companion.activated'] });
      for (let i = 0; i < 3; i++) await api.http.post('/api/v1/events').set(hook.org.auth).send(sampleEvent(i)).expect(202);
      const delivered = await waitFor(
        async () => {
          const families = parsePrometheusTextFormat(
            (await scrape.get('/metrics').set('Authorization', `Bearer ${ADMIN_TOKEN}`).expect(200)).text,
          );
          const ok = families
            .find((f) => f.name === 'humana_webhook_deliveries_total')
            ?.metrics.find((m) => m.labels?.outcome === 'success');
          return Number(ok?.value) === 3 ? families : null;
        },
        15_000,
        100,
      );
      assert.ok(delivered);
      const apiFamilies = parsePrometheusTextFormat(
        (await api.http.get('/metrics').set('Authorization', `Bearer ${ADMIN_TOKEN}`).expect(200)).text,
      );
      assert.equal(family(apiFamilies, 'humana_webhook_deliveries_total').metrics.length, 0, 'the API process delivered nothing itself');
      assert.equal(sample(apiFamilies, 'humana_delivery_workers'), 1, 'shared state is visible from any process');
    } finally {
      await worker.kill('SIGTERM');
      await api.close();
      await rx.close();
    }
  });
});
