import type { EventDataMap, EventInput, EventType } from './generated/catalog.js';

/** A stored/delivered event (contract section 3). */
export type Envelope<K extends EventType = EventType> = {
  [T in K]: { id: string; type: T; organizationId: string; timestamp: string; data: EventDataMap[T] };
}[K];

/** What `publish` takes: a catalog type with its data (`id` = idempotency key, generated when absent). */
export type PublishInput<K extends EventType = EventType> = {
  [T in K]: { type: T; data: EventInput<T>; id?: string };
}[K];

/** An event as the streams carry it (SSE/WS frames carry the id, type and data; `data.timestamp` is the event time). */
export type StreamEvent<K extends EventType = EventType> = {
  [T in K]: { id: string; type: T; data: EventDataMap[T] };
}[K];

export type BatchResult = { id: string; duplicate?: boolean } | { error: { code: string; message: string; details?: unknown[] } };

export interface HistoryQuery {
  eventType?: EventType | (string & {});
  companionId?: string;
  userId?: string;
  from?: string;
  to?: string;
  /** Page size (≤ 1000, default 100). */
  limit?: number;
  cursor?: string;
}

export interface RetryConfig {
  maxAttempts?: number;
  backoffMultiplier?: number;
  maxDelay?: number;
}

/** Webhook configuration (create/PUT); PATCH takes any subset. */
export interface WebhookInput {
  url: string;
  /** Exact types or patterns (`message.*`, `*`). */
  events: Array<EventType | `${string}.*` | '*' | (string & {})>;
  secret?: string;
  headers?: Record<string, string>;
  filters?: Record<string, unknown> | null;
  retry?: RetryConfig;
  description?: string;
  enabled?: boolean;
  timeoutMs?: number;
  batch?: { maxSize: number; maxWaitMs: number } | null;
  transform?: string | null;
  [option: string]: unknown;
}

export interface Webhook {
  id: string;
  url: string;
  events: string[];
  headers: Record<string, string>;
  filters: Record<string, unknown> | null;
  retry: Required<RetryConfig>;
  description: string;
  enabled: boolean;
  timeoutMs: number;
  batch: { maxSize: number; maxWaitMs: number } | null;
  transform: string | null;
  createdAt: string;
  updatedAt: string;
  [field: string]: unknown;
}

export interface WebhookTestResult {
  success: boolean;
  statusCode: number | null;
  duration: number;
  error?: string;
  deliveryId?: string;
}

export type DeliveryStatus = 'pending' | 'success' | 'retrying' | 'failed';

export interface Delivery {
  id: string;
  eventId: string;
  event: string;
  url: string;
  status: DeliveryStatus;
  statusCode: number | null;
  duration: number;
  attempts: number;
  timestamp: string;
  [field: string]: unknown;
}

export interface DeliveryAttempt {
  attempt?: number;
  timestamp: string;
  statusCode: number | null;
  duration: number;
  error?: string | null;
  responseBody?: string;
  [field: string]: unknown;
}

export interface DeliveryDetail extends Delivery {
  attemptHistory: DeliveryAttempt[];
  eventPublishedAt?: string;
  succeededAt?: string | null;
}

export interface DeliveryQuery {
  status?: DeliveryStatus;
  eventType?: string;
  limit?: number;
  cursor?: string;
}

export interface DlqFilter {
  webhookId?: string;
  eventType?: string;
  from?: string;
  to?: string;
}

export interface FailedWebhook {
  id: string;
  originalWebhook: Record<string, unknown>;
  event: Envelope;
  attempts: DeliveryAttempt[];
  failureReason: string;
  createdAt: string;
  lastAttempt: string;
  [field: string]: unknown;
}

export interface EventTypeInfo {
  type: string;
  category?: string;
  description: string;
  schema: Record<string, unknown>;
  [field: string]: unknown;
}
