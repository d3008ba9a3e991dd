import { SpanStatusCode } from '@opentelemetry/api';
import { envelopeOf, type EventEnvelope } from '../events/envelope.js';
import { contextFromHeaders, traceparentOf, withSpan } from '../common/tracing.js';
import type { CompiledWebhook } from '../webhooks/webhook-index.js';
import { sign } from '../webhooks/signing.js';
import { applyTransform, TransformError } from '../webhooks/transform.js';
import type { AttemptRecord, FailureKind } from './delivery.entity.js';
import type { Destinations } from '../destinations/destinations.js';
import { formattedBody } from '../destinations/formats.js';
import { classifyStatus, retryAfterWait, type Outcome } from './retry-policy.js';

export const USER_AGENT = 'HumanaEvents-Webhooks/1.0';

/** What one delivery sends: one event, or a batch of events (contract section 7). */
export interface Payload {
  event: EventEnvelope;
  batch?: EventEnvelope[];
  /** The event's untransformed JSON, when the caller already has it (one serialisation per fan-out). */
  json?: string;
  /** Trace context of the publish: each attempt is a span of that trace, sent on as `traceparent`. */
  traceparent?: string;
}

export interface AttemptOutcome {
  record: AttemptRecord;
  outcome: Outcome;
  /** The receiver's Retry-After (429/503), capped at maxDelay. */
  retryAfterMs?: number;
}

async function bodyOf(hook: CompiledWebhook, payload: Payload, publicUrl: string): Promise<string> {
  const formatted = payload.batch ? null : formattedBody(hook.row.format, hook.row.formatOptions, envelopeOf(payload.event), publicUrl);
  if (formatted !== null) return formatted;
  const render = async (e: EventEnvelope) => (hook.transform ? applyTransform(hook.transform, envelopeOf(e)) : envelopeOf(e));
  if (payload.batch) return JSON.stringify({ events: await Promise.all(payload.batch.map(render)) });
  if (!hook.transform && payload.json) return payload.json;
  return JSON.stringify(await render(payload.event));
}

/** One attempt: body (transformed when configured), the contract's headers and signatures, POST, classification. */
export class DeliveryExecutor {
  constructor(private readonly destinations: Destinations) {}

  /** One attempt as a span of the publish's trace; the receiver gets its `traceparent` to join the trace. */
  attempt(hook: CompiledWebhook, payload: Payload, deliveryId: string, attempt: number): Promise<AttemptOutcome> {
    const attributes = { 'humana.delivery_id': deliveryId, 'humana.webhook_id': hook.id, 'humana.event_id': payload.event.id, 'humana.attempt': attempt };
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

  private async send(hook: CompiledWebhook, payload: Payload, deliveryId: string, attempt: number, traceparent?: string): Promise<AttemptOutcome> {
    const timestamp = new Date().toISOString();
    let body: string;
    try {
      body = await bodyOf(hook, payload, this.destinations.publicUrl);
    } catch (err) {
      if (!(err instanceof TransformError)) throw err;
      const record: AttemptRecord = { attempt, timestamp, statusCode: null, duration: 0, error: `transform failed: ${err.message}`, errorKind: 'transform', responseBody: '' };
      return { record, outcome: 'fatal' };
    }
    const ts = Math.floor(Date.now() / 1000);
    // A batch has no single event id: its delivery id is the message id receivers de-duplicate on.
    const messageId = payload.batch ? deliveryId : payload.event.id;
    const sig = sign(hook.signingKeys(), messageId, ts, body);
    const w = hook.row;
    const headers: Record<string, string> = {
      'user-agent': USER_AGENT,
      ...w.headers,
      'content-type': 'application/json',
      'x-humana-event': payload.batch ? 'batch' : payload.event.type,
      'x-humana-delivery': deliveryId,
      'x-humana-timestamp': String(ts),
      'x-humana-signature': sig.humana,
      'webhook-id': messageId,
      'webhook-timestamp': String(ts),
      'webhook-signature': sig.standard,
      ...(traceparent ? { traceparent } : {}),
    };
    const res = await this.destinations.for(w.url).send({ url: w.url, headers, body, timeoutMs: w.timeoutMs, event: payload.event });
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
