import type { components } from './generated/api-types.js';
import type { EventDataMap, EventInput, EventType } from './generated/catalog.js';

/** The API's response bodies by OpenAPI component name (generated from the server's zod response schemas). */
type Schemas = components['schemas'];

/**
 * An organization's own event types, name → `data` (the `CustomEventDataMap` that `humana-events types` writes).
 * `new HumanaEvents<CustomEventDataMap>(…)` type-checks them beside the built-in catalog.
 */
export type CustomEvents = object;
/** No custom types: the built-in catalog only. */
export type NoCustomEvents = Record<never, never>;

/** Every event type name a client knows: the built-in catalog plus the custom map's keys. */
export type EventName<C extends CustomEvents = NoCustomEvents> = EventType | Extract<keyof C, string>;

/** The `data` of type `T` as stored and delivered (built-ins from the catalog, custom types from `C`). */
export type EventData<T extends string, C extends CustomEvents = NoCustomEvents> = T extends EventType
  ? EventDataMap[T]
  : T extends keyof C
    ? C[T]
    : never;

/** What `publish` takes as `data` of type `T` (built-ins: `timestamp` optional; custom types: stored as sent). */
export type EventDataInput<T extends string, C extends CustomEvents = NoCustomEvents> = T extends EventType
  ? EventInput<T>
  : T extends keyof C
    ? C[T]
    : never;

/** A stored/delivered event (contract section 3). */
export type Envelope<K extends string = EventType, C extends CustomEvents = NoCustomEvents> = {
  [T in K]: { id: string; type: T; organizationId: string; timestamp: string; data: EventData<T, C> };
}[K];

/** What `publish` takes: a known type with its data (`id` = idempotency key, generated when absent). */
export type PublishInput<K extends string = EventType, C extends CustomEvents = NoCustomEvents> = {
  [T in K]: { type: T; data: EventDataInput<T, C>; id?: string };
}[K];

/** An event as the streams carry it (SSE/WS frames carry the id, type and data; `data.timestamp` is the event time). */
export type StreamEvent<K extends string = EventType, C extends CustomEvents = NoCustomEvents> = {
  [T in K]: { id: string; type: T; data: EventData<T, C> };
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
  circuitBreaker?: CircuitBreakerOptions;
  autoDisable?: AutoDisableOptions;
  rateLimit?: { perSecond: number } | null;
  /** Dotted `data` path (or `"*"`) whose deliveries go out one at a time, in log order. */
  ordering?: { key: string } | null;
  /** A/B delivery: each event goes to one variant URL, chosen by weight. */
  variants?: Array<{ url: string; weight: number }> | null;
  format?: WebhookFormat;
  formatOptions?: { routingKey?: string; source?: string; severity?: 'critical' | 'error' | 'warning' | 'info' } | null;
  [option: string]: unknown;
}

export interface CircuitBreakerOptions {
  failureThreshold: number;
  probeIntervalMs: number;
}

export interface AutoDisableOptions {
  afterMs: number;
  minFailures: number;
}

export type WebhookFormat = 'standard' | 'slack' | 'pagerduty';

/** The endpoint's state (contract section 8). */
export type EndpointHealth = Schemas['EndpointHealth'];

/** Deliveries held while a webhook is paused (or rate-limited): how many, and the publish time of the oldest. */
export type WebhookBacklog = Schemas['Backlog'];

/** A webhook as the API shows it: options, live endpoint health, transform health; credentials in its URL masked. */
export type Webhook = Schemas['WebhookDetail'];
/** The answer to a create: the webhook and its signing secret (shown only here and by `secret()`). */
export type CreatedWebhook = Schemas['CreatedWebhook'];
export type WebhookSecret = Schemas['WebhookSecret'];
export type RotatedSecret = Schemas['RotatedSecret'];

export type WebhookTestResult = Schemas['TestResult'];

export type DeliveryStatus = Delivery['status'];
export type Delivery = Schemas['DeliverySummary'];
export type DeliveryAttempt = Schemas['Attempt'];
export type DeliveryDetail = Schemas['DeliveryDetail'];
/** A delivery queued by a replay or a DLQ retry. */
export type QueuedDelivery = Schemas['QueuedDelivery'];
export type ReplayRangeResult = Schemas['ReplayRangeResult'];

/** Page size (1–1000, default 100) and where to start; the iterator follows `nextCursor` itself. */
export interface PageQuery {
  limit?: number;
  cursor?: string;
}

export interface DeliveryQuery extends PageQuery {
  status?: DeliveryStatus;
  eventType?: string;
}

export interface DlqFilter {
  webhookId?: string;
  eventType?: string;
  from?: string;
  to?: string;
}

/** A DLQ entry: the delivery that failed for good, its attempts, the webhook then and whether it can be retried now. */
export type FailedWebhook = Schemas['FailedWebhook'];
export type BulkRetryResult = Schemas['BulkRetryResult'];
export type PurgeResult = Schemas['PurgeResult'];

/** One entry of `GET /api/v1/event-types`: a built-in type or one of the organization's own. */
export type EventTypeInfo = Schemas['EventType'];

/** `POST /api/v1/event-types`: a `category.action` name, a JSON Schema of `data`, examples it must accept. */
export interface EventTypeInput {
  name: string;
  description?: string;
  schema: Record<string, unknown>;
  examples?: Record<string, unknown>[];
}

/** `PUT /api/v1/event-types/{name}`: replaces description, schema and examples (absent examples are kept). */
export type EventTypeChange = Omit<EventTypeInput, 'name'>;

/** The seed's `EventMetrics`, for the organization or one webhook; `null` where the window has no data. */
export type EventMetrics = Schemas['EventMetrics'];
export type MetricsWindow = EventMetrics['window'];

/** `GET /api/v1/events/health` (seed shape); returned as is when the server answers 503. */
export type EventSystemHealth = Schemas['EventSystemHealth'];
export type CheckStatus = EventSystemHealth['status'];

/** `GET /health/live` and `/health/ready` (terminus); returned as is when the server answers 503. */
export interface ProbeResult {
  status: 'ok' | 'error' | 'shutting_down';
  info?: Record<string, { status: string; [k: string]: unknown }>;
  error?: Record<string, { status: string; [k: string]: unknown }>;
  details: Record<string, { status: string; [k: string]: unknown }>;
}

/** One change the organization made (secrets and receiver credentials redacted). */
export type AuditEntry = Schemas['AuditPage']['entries'][number];

export type Scope = CreatedApiKey['scopes'][number];

/** An organization; `limits` holds the ones set (OrganizationLimits). */
export type Organization = Schemas['Organization'];
export type CreatedOrganization = Schemas['CreatedOrganization'];

/** Per-organization limits; a missing one means unlimited. */
export interface OrganizationLimits {
  eventsPerMinute?: number;
  eventsPerMonth?: number;
  maxConnections?: number;
}

/** A new API key: `key` is shown only in this answer. */
export type CreatedApiKey = Schemas['CreatedKey'];
