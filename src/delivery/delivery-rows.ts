import type { EventEnvelope } from '../events/envelope.js';
import type { Webhook } from '../webhooks/webhook.entity.js';
import { transportOf } from '../destinations/schemes.js';
import { maskUrl } from '../destinations/url-mask.js';
import type { AttemptRecord, Delivery, DeliveryKind, DeliveryStatus } from './delivery.entity.js';
import { variantFor } from './engine-decision.js';

export interface DeliveryState {
  webhook: Pick<Webhook, 'id' | 'organizationId' | 'url'> & Partial<Pick<Webhook, 'variants'>>;
  deliveryId: string;
  kind: DeliveryKind;
  event: EventEnvelope;
  batch?: EventEnvelope[];
  createdAt: string;
  attempts: AttemptRecord[];
  status: DeliveryStatus;
  /** Overrides the last attempt's error (e.g. cancellation). */
  error?: string;
  nextAttemptAt?: string | null;
  /** X-Humana-Sequence of an ordered delivery. */
  sequence?: number;
}

/** The delivery log row for a delivery's current state. */
export function deliveryRow(s: DeliveryState): Delivery {
  const last = s.attempts[s.attempts.length - 1];
  const now = new Date().toISOString();
  const succeededAt = s.status === 'success' && last ? last.timestamp : null;
  const publishedAt = s.event.timestamp;
  return {
    id: s.deliveryId,
    organizationId: s.webhook.organizationId,
    webhookId: s.webhook.id,
    eventId: s.event.id,
    eventType: s.batch ? 'batch' : s.event.type,
    kind: s.kind,
    url: maskUrl(s.webhook.url),
    transport: transportOf(s.webhook.url),
    status: s.status,
    statusCode: last?.statusCode ?? null,
    durationMs: last?.duration ?? null,
    attempts: s.attempts.length,
    attemptLog: s.attempts,
    error: s.error ?? last?.error ?? null,
    eventPublishedAt: publishedAt,
    createdAt: s.createdAt,
    updatedAt: now,
    succeededAt,
    latencyMs: succeededAt ? Math.max(0, Date.parse(succeededAt) + (last?.duration ?? 0) - Date.parse(publishedAt)) : null,
    nextAttemptAt: s.nextAttemptAt ?? null,
    variant: s.webhook.variants?.length ? maskUrl(variantFor(s.webhook.variants, s.deliveryId).url) : null,
    sequence: s.sequence ?? null,
  };
}
