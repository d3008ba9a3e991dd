import type { EventDataMap, EventInput, EventType } from './generated/catalog.js';

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
export interface EndpointHealth {
  state: 'healthy' | 'failing' | 'circuit_open' | 'disabled';
  consecutiveFailures: number;
  lastSuccessAt: string | null;
  lastFailureAt: string | null;
  disabledAt: string | null;
  disabledReason: string | null;
}

/** Deliveries held while a webhook is paused (or rate-limited): how many, and the publish time of the oldest. */
export interface WebhookBacklog {
  pending: number;
  oldestAt: string | null;
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
  /** Chosen by the URL's scheme. */
  transport: 'http' | 'amqp' | 'nats' | 'mqtt' | 'redis' | 'smtp' | (string & {});
  circuitBreaker: CircuitBreakerOptions;
  autoDisable: AutoDisableOptions;
  rateLimit: { perSecond: number } | null;
  ordering: { key: string } | null;
  variants: Array<{ url: string; weight: number }> | null;
  format: WebhookFormat;
  formatOptions: WebhookInput['formatOptions'];
  paused: boolean;
  health: EndpointHealth;
  transformHealth?: { consecutiveFailures: number; lastError: string | null; lastFailureAt: string | null };
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
  webhookId: string;
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

/** One entry of `GET /api/v1/event-types`: a built-in type or one of the organization's own. */
export interface EventTypeInfo {
  type: string;
  category: string;
  description: string;
  /** JSON Schema (draft 2020-12) of the event's `data`. */
  schema: Record<string, unknown>;
  builtIn: boolean;
  /** Grows by one on every schema change of an own type (built-ins: 1). */
  version: number;
  examples?: Record<string, unknown>[];
  createdAt?: string;
  updatedAt?: string;
}

/** `POST /api/v1/event-types`: a `category.action` name, a JSON Schema of `data`, examples it must accept. */
export interface EventTypeInput {
  name: string;
  description?: string;
  schema: Record<string, unknown>;
  examples?: Record<string, unknown>[];
}

/** `PUT /api/v1/event-types/{name}`: replaces description, schema and examples (absent examples are kept). */
export type EventTypeChange = Omit<EventTypeInput, 'name'>;

export type MetricsWindow = '1m' | '5m' | '15m' | '1h' | '24h';

/** The seed's `EventMetrics`, for the organization or one webhook; `null` where the window has no data. */
export interface EventMetrics {
  organizationId: string;
  webhookId?: string;
  window: MetricsWindow;
  from: string;
  to: string;
  deliveryRate: { successful: number; failed: number; percentage: number | null };
  /** Publish → 2xx of successful deliveries, ms. */
  latency: { p50: number | null; p95: number | null; p99: number | null; average: number | null };
  throughput: { eventsPerSecond: number; peakThroughput: number; averageThroughput: number };
  errors: { byType: Record<string, number>; byStatusCode: Record<string, number>; retrySuccess: number };
  /** Per variant URL (webhooks with `variants`). */
  variants?: Array<{
    url: string;
    successful: number;
    failed: number;
    successRate: number | null;
    averageLatency: number | null;
    averageDuration: number | null;
  }>;
}

export type CheckStatus = 'healthy' | 'degraded' | 'unhealthy';

/** `GET /api/v1/events/health` (seed shape); returned as is when the server answers 503. */
export interface EventSystemHealth {
  status: CheckStatus;
  checks: Record<string, CheckStatus>;
  metrics: {
    active_webhooks: number | null;
    active_sse_connections: number;
    active_websocket_connections: number;
    pending_events: number | null;
    dead_letter_queue_size: number | null;
    delivery_workers: number | null;
  };
  errors?: Record<string, string>;
}

/** `GET /health/live` and `/health/ready` (terminus); returned as is when the server answers 503. */
export interface ProbeResult {
  status: 'ok' | 'error' | 'shutting_down';
  info?: Record<string, { status: string; [k: string]: unknown }>;
  error?: Record<string, { status: string; [k: string]: unknown }>;
  details: Record<string, { status: string; [k: string]: unknown }>;
}

/** One change the organization made (secrets and receiver credentials redacted). */
export interface AuditEntry {
  id: string;
  organizationId: string;
  /** The API key id, or `admin`. */
  actor: string;
  /** e.g. `webhook.created`, `event_type.updated`. */
  action: string;
  resourceId: string | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  timestamp: string;
}

export type Scope = 'events:write' | 'events:read' | 'streams:read' | 'webhooks:read' | 'webhooks:write' | 'dlq:manage' | 'audit:read';

export interface Organization {
  id: string;
  name: string;
  limits?: OrganizationLimits;
  createdAt: string;
}

/** Per-organization limits; a missing one means unlimited. */
export interface OrganizationLimits {
  eventsPerMinute?: number;
  eventsPerMonth?: number;
  maxConnections?: number;
}

/** A new API key: `key` is shown only in this answer. */
export interface CreatedApiKey {
  id: string;
  key: string;
  organizationId: string;
  name: string;
  scopes: Scope[];
}
