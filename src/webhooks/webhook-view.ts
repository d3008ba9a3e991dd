import { autoDisableOf, circuitBreakerOf, healthOf, type EndpointHealth, type HealthHash } from './endpoint-health.js';
import type { Transport } from '../destinations/destination.js';
import { transportOf } from '../destinations/schemes.js';
import { maskUrl } from '../destinations/url-mask.js';
import type { Webhook } from './webhook.entity.js';

/** A webhook as the API shows it: never its secret, the URL's credentials masked (`amqp://guest:***@host/…`). */
export interface WebhookView {
  id: string;
  url: string;
  /** Chosen by the URL's scheme. */
  transport: Transport;
  events: string[];
  headers: Record<string, string>;
  filters: Webhook['filters'];
  retry: Webhook['retry'];
  description: string;
  enabled: boolean;
  timeoutMs: number;
  batch: Webhook['batch'];
  transform: string | null;
  circuitBreaker: NonNullable<Webhook['circuitBreaker']>;
  autoDisable: NonNullable<Webhook['autoDisable']>;
  rateLimit: Webhook['rateLimit'];
  ordering: Webhook['ordering'];
  variants: Webhook['variants'];
  paused: boolean;
  health: EndpointHealth;
  format: Webhook['format'];
  formatOptions: Webhook['formatOptions'];
  createdAt: string;
  updatedAt: string;
}

/** The view; `health` comes from the webhook's Redis health hash when given (else from the row alone). */
export function viewOf(w: Webhook, health?: HealthHash): WebhookView {
  return {
    id: w.id,
    url: maskUrl(w.url),
    transport: transportOf(w.url),
    events: w.events,
    headers: w.headers,
    filters: w.filters,
    retry: w.retry,
    description: w.description,
    enabled: w.enabled,
    timeoutMs: w.timeoutMs,
    batch: w.batch,
    transform: w.transform,
    circuitBreaker: circuitBreakerOf(w),
    autoDisable: autoDisableOf(w),
    rateLimit: w.rateLimit ?? null,
    ordering: w.ordering ?? null,
    variants: w.variants?.map((v) => ({ ...v, url: maskUrl(v.url) })) ?? null,
    paused: w.paused ?? false,
    health: healthOf(w, health),
    format: w.format ?? 'standard',
    formatOptions: w.formatOptions ?? null,
    createdAt: w.createdAt,
    updatedAt: w.updatedAt,
  };
}
