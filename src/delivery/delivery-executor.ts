import { SpanStatusCode } from '@opentelemetry/api';
import { envelopeOf, type EventEnvelope } from '../events/envelope.js';
import { childTraceparent, contextFromHeaders, traceparentOf, tracesExported, withSpan } from '../common/tracing.js';
import type { CompiledWebhook } from '../webhooks/webhook-index.js';
import { sign } from '../webhooks/signing.js';
import { TransformError, TransformUnavailableError } from '../webhooks/transform.js';
import type { TransformHealth } from '../webhooks/transform-health.js';
import type { TransformPool } from '../webhooks/transform-pool.js';
import type { AttemptRecord, FailureKind } from './delivery.entity.js';
import type { Destinations } from '../destinations/destinations.js';
import { formattedBody } from '../destinations/formats.js';
import { classifyStatus, retryAfterWait, type Outcome } from './retry-policy.js';
import { variantFor } from './engine-decision.js';

export const USER_AGENT = 'HumanaEvents-Webhooks/1.0';

/** What one delivery sends: one event, or a batch of events (contract section 7). */
export interface Payload {
  event: EventEnvelope;
  batch?: EventEnvelope[];
  /** The event's untransformed JSON, when the caller already has it (one serialisation per fan-out). */
  json?: string;
  /** Trace context of the publish: each attempt is a span of that trace, sent on as `traceparent`. */
  traceparent?: string;
  /** X-Humana-Sequence of an ordered delivery. */
  sequence?: number;
}

export interface AttemptOutcome {
  record: AttemptRecord;
  outcome: Outcome;
  /** The receiver's Retry-After (429/503), capped at maxDelay. */
  retryAfterMs?: number;
}

/** One attempt: body (transformed when configured), the contract's headers and signatures, POST, classification. */
export class DeliveryExecutor {
  constructor(
    private readonly destinations: Destinations,
    private readonly transforms: TransformPool,
    private readonly transformHealth: TransformHealth,
  ) {}

  private async bodyOf(hook: CompiledWebhook, payload: Payload): Promise<string> {
    const format = hook.row.format;
    const formatted =
      payload.batch || !format || format === 'standard'
        ? null
        : formattedBody(format, hook.row.formatOptions, envelopeOf(payload.event), this.destinations.publicUrl);
    if (formatted !== null) return formatted;
    const expression = hook.row.transform;
    if (!expression) {
      if (payload.batch) return JSON.stringify({ events: payload.batch.map(envelopeOf) });
      return payload.json ?? JSON.stringify(envelopeOf(payload.event));
    }
    // A batch's events one after another: a large batch must not take the whole transform queue at once.
    const parts: string[] = [];
    for (const e of payload.batch ?? [payload.event]) parts.push(await this.transforms.run(expression, envelopeOf(e)));
    return payload.batch ? `{"events":[${parts.join(',')}]}` : parts[0];
  }

  /** The body, or the attempt that failed making it: a broken transform is fatal (DLQ), a busy pool retryable. */
  private async render(
    hook: CompiledWebhook,
    payload: Payload,
    record: Pick<AttemptRecord, 'attempt' | 'timestamp'>,
  ): Promise<string | AttemptOutcome> {
    const failed = (error: string, outcome: Outcome): AttemptOutcome => ({
      record: { ...record, statusCode: null, duration: 0, error, errorKind: 'transform', responseBody: '' },
      outcome,
    });
    try {
      const body = await this.bodyOf(hook, payload);
      if (hook.row.transform) this.transformHealth.succeeded(hook.id).catch(() => undefined);
      return body;
    } catch (err) {
      if (err instanceof TransformUnavailableError) return failed(`transform unavailable: ${err.message}`, 'retryable');
      if (!(err instanceof TransformError)) throw err;
      await this.transformHealth.failed(hook.id, err.message).catch(() => undefined);
      return failed(`transform failed: ${err.message}`, 'fatal');
    }
  }

  /** One attempt as a span of the publish's trace; the receiver gets its `traceparent` to join the trace. */
  attempt(hook: CompiledWebhook, payload: Payload, deliveryId: string, attempt: number): Promise<AttemptOutcome> {
    // Nothing exports traces: no span objects, only the header (a child of the publish's trace).
    if (!tracesExported()) return this.send(hook, payload, deliveryId, attempt, childTraceparent(payload.traceparent));
    const attributes = {
      'humana.delivery_id': deliveryId,
      'humana.webhook_id': hook.id,
      'humana.event_id': payload.event.id,
      'humana.attempt': attempt,
    };
    const parent = contextFromHeaders({ traceparent: payload.traceparent });
    return withSpan(
      'webhook.attempt',
      attributes,
      async (span, ctx) => {
        const res = await this.send(hook, payload, deliveryId, attempt, traceparentOf(ctx));
        span.setAttributes({ 'http.response.status_code': res.record.statusCode ?? 0, 'humana.outcome': res.outcome });
        if (res.outcome !== 'success') span.setStatus({ code: SpanStatusCode.ERROR, message: res.record.error ?? res.outcome });
        return res;
      },
      parent,
    );
  }

  private async send(
    hook: CompiledWebhook,
    payload: Payload,
    deliveryId: string,
    attempt: number,
    traceparent?: string,
  ): Promise<AttemptOutcome> {
    const timestamp = new Date().toISOString();
    const body = await this.render(hook, payload, { attempt, timestamp });
    if (typeof body !== 'string') return body;
    const ts = Math.floor(Date.now() / 1000);
    // A batch has no single event id: its delivery id is the message id receivers de-duplicate on.
    const messageId = payload.batch ? deliveryId : payload.event.id;
    const sig = sign(hook.signingKeys(), messageId, ts, body);
    const w = hook.row;
    const tsText = String(ts);
    // Built in place: no intermediate objects per attempt.
    const headers: Record<string, string> = { 'user-agent': USER_AGENT };
    if (w.headers) Object.assign(headers, w.headers);
    headers['content-type'] = 'application/json';
    headers['x-humana-event'] = payload.batch ? 'batch' : payload.event.type;
    headers['x-humana-delivery'] = deliveryId;
    headers['x-humana-timestamp'] = tsText;
    headers['x-humana-signature'] = sig.humana;
    headers['webhook-id'] = messageId;
    headers['webhook-timestamp'] = tsText;
    headers['webhook-signature'] = sig.standard;
    if (traceparent) headers.traceparent = traceparent;
    if (payload.sequence) headers['x-humana-sequence'] = String(payload.sequence);
    // A/B: the variant chosen by weight, the same on every attempt of this delivery (its id decides).
    const url = w.variants?.length ? variantFor(w.variants, deliveryId).url : w.url;
    const res = await this.destinations.for(url).send({ url, headers, body, timeoutMs: w.timeoutMs, event: payload.event });
    let outcome: Outcome;
    let error = res.error;
    let errorKind: FailureKind | null = res.errorKind;
    if (res.statusCode === null) outcome = res.errorKind === 'blocked' || res.errorKind === 'rejected' ? 'fatal' : 'retryable';
    else if (res.statusCode >= 300 && res.statusCode < 400) {
      outcome = 'fatal';
      errorKind = 'redirect';
      error = `redirect ${res.statusCode} not followed${res.headers.location ? ` (Location: ${String(res.headers.location).slice(0, 500)})` : ''}`;
    } else {
      outcome = classifyStatus(res.statusCode);
      if (outcome !== 'success') {
        error = `HTTP ${res.statusCode}`;
        errorKind = res.statusCode >= 500 ? 'http_5xx' : 'http_4xx';
      }
    }
    const retryAfter = res.headers['retry-after'];
    return {
      record: { attempt, timestamp, statusCode: res.statusCode, duration: res.durationMs, error, errorKind, responseBody: res.body },
      outcome,
      retryAfterMs: retryAfterWait(res.statusCode, Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, w.retry),
    };
  }
}
