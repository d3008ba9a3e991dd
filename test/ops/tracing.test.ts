import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createOrg, startTestApp, waitFor, type TestApp, type TestOrg } from '../helpers/app.js';
import { sampleEvent } from './helpers.js';
import { startOtlpReceiver, type ExportedSpan } from './otlp-receiver.js';

/** Own test file: the tracer provider is process-wide, and this one must be the first to configure it (exporter on). */
describe('OpenTelemetry tracing', () => {
  let collector: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let app: TestApp;
  let org: TestOrg;
  before(async () => {
    collector = await startOtlpReceiver();
    app = await startTestApp({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_SERVICE_NAME: 'humana-test' } });
    org = await createOrg(app);
  });
  after(async () => {
    await app.close();
    await collector.close();
  });

  const spanWhere = (pred: (s: ExportedSpan) => boolean) => waitFor(() => collector.spans.find(pred), 10_000) as Promise<ExportedSpan>;

  test('a publish joins the caller’s trace and the trace context is stored with the event in the log', async () => {
    const traceId = randomBytes(16).toString('hex');
    const parentId = randomBytes(8).toString('hex');
    const res = await app.http.post('/api/v1/events').set(org.auth).set('traceparent', `00-${traceId}-${parentId}-01`).send(sampleEvent()).expect(202);
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
    const res = await app.http.post('/api/v1/events/batch').set(org.auth).send({ events: [sampleEvent(1), sampleEvent(2)] }).expect(202);
    assert.equal(res.body.results.length, 2);
    const span = await spanWhere((s) => s.name === 'events.publish_batch' && s.attributes['humana.organization_id'] === org.id);
    assert.equal(span.parentSpanId, undefined);
    assert.equal(span.attributes['humana.batch_size'], 2);
    assert.match(span.traceId, /^[0-9a-f]{32}$/);
  });
});
