import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createOrg, startTestApp, type TestApp, type TestOrg } from '../support/launcher.js';
import { Receiver } from '../support/receiver.js';
import { waitFor } from '../support/time.js';
import { hookFor } from '../webhooks/fixtures.js';
import { sampleEvent } from './helpers.js';
import { startOtlpReceiver, type ExportedSpan } from './otlp-receiver.js';

/** Own test file: the tracer provider is process-wide, and this one must be the first to configure it (exporter on). */
describe('OpenTelemetry tracing', () => {
  let collector: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let app: TestApp;
  let org: TestOrg;
  let rx: Receiver;
  before(async () => {
    collector = await startOtlpReceiver();
    rx = await Receiver.start();
    app = await startTestApp({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_SERVICE_NAME: 'humana-test' } });
    org = await createOrg(app);
  });
  after(async () => {
    await app.close();
    await collector.close();
    await rx.close();
  });

  const spanWhere = (pred: (s: ExportedSpan) => boolean) => waitFor(() => collector.spans.find(pred), 10_000) as Promise<ExportedSpan>;

  test('a publish joins the caller’s trace and the trace context is stored with the event in the log', async () => {
    const traceId = randomBytes(16).toString('hex');
    const parentId = randomBytes(8).toString('hex');
    const res = await app.http
      .post('/api/v1/events')
      .set(org.auth)
      .set('traceparent', `00-${traceId}-${parentId}-01`)
      .send(sampleEvent())
      .expect(202);
    const span = await spanWhere((s) => s.name === 'events.publish' && s.attributes['humana.event_id'] === res.body.id);
    assert.equal(span.traceId, traceId);
    assert.equal(span.parentSpanId, parentId);
    assert.equal(span.attributes['humana.organization_id'], org.id);
    assert.equal(span.attributes['humana.event_type'], 'companion.activated');

    const redis = new Redis(app.redis.url);
    try {
      const [[, fields]] = await redis.xrange(`{humana}:events`, '-', '+', 'COUNT', 1);
      assert.equal(fields[fields.indexOf('tp') + 1], `00-${traceId}-${span.spanId}-01`, 'deliveries continue from the publish span');
    } finally {
      redis.disconnect();
    }
  });

  test('without a caller trace a publish starts one; a batch is one span', async () => {
    const res = await app.http
      .post('/api/v1/events/batch')
      .set(org.auth)
      .send({ events: [sampleEvent(1), sampleEvent(2)] })
      .expect(202);
    assert.equal(res.body.results.length, 2);
    const span = await spanWhere((s) => s.name === 'events.publish_batch' && s.attributes['humana.organization_id'] === org.id);
    assert.equal(span.parentSpanId, undefined);
    assert.equal(span.attributes['humana.batch_size'], 2);
    assert.match(span.traceId, /^[0-9a-f]{32}$/);
  });

  test('every webhook attempt is a span of the publish trace and the receiver gets its traceparent, retries included', async () => {
    const hook = await hookFor(app, rx.url, { events: ['companion.activated'], retry: { maxAttempts: 2, backoffMultiplier: 1 } });
    rx.on(hook.path, (_req, n) => ({ status: n === 1 ? 503 : 200 }));
    const traceId = randomBytes(16).toString('hex');
    const res = await app.http
      .post('/api/v1/events')
      .set(hook.org.auth)
      .set('traceparent', `00-${traceId}-${randomBytes(8).toString('hex')}-01`)
      .send(sampleEvent())
      .expect(202);
    const publish = await spanWhere((s) => s.name === 'events.publish' && s.attributes['humana.event_id'] === res.body.id);
    const attempts = (await waitFor(() => {
      const found = collector.spans.filter((s) => s.name === 'webhook.attempt' && s.attributes['humana.event_id'] === res.body.id);
      return found.length === 2 ? found : null;
    }, 15_000)) as ExportedSpan[];
    const received = rx.at(hook.path);
    assert.equal(received.length, 2);
    for (const [i, span] of attempts
      .sort((x, y) => Number(x.attributes['humana.attempt']) - Number(y.attributes['humana.attempt']))
      .entries()) {
      assert.equal(span.traceId, traceId);
      assert.equal(span.parentSpanId, publish.spanId, 'attempts are children of the publish span');
      assert.equal(span.attributes['http.response.status_code'], i === 0 ? 503 : 200);
      assert.equal(received[i].headers.traceparent, `00-${traceId}-${span.spanId}-01`);
    }
  });
});
