import { HttpClient, newIdempotencyKey, Paginated, type ClientOptions, type QueryValue } from './http.js';
import type { ResumableIterator } from './resume.js';
import { openSocket, type SocketOptions } from './socket.js';
import { openStream, type StreamOptions } from './sse.js';
import type {
  AuditEntry,
  BatchResult,
  BulkRetryResult,
  CreatedApiKey,
  CreatedOrganization,
  CreatedWebhook,
  CustomEvents,
  Delivery,
  DeliveryDetail,
  DeliveryQuery,
  DlqFilter,
  Envelope,
  EventMetrics,
  EventName,
  EventSystemHealth,
  EventTypeChange,
  EventTypeInfo,
  EventTypeInput,
  FailedWebhook,
  HistoryQuery,
  MetricsWindow,
  NoCustomEvents,
  Organization,
  OrganizationLimits,
  PageQuery,
  ProbeResult,
  PublishInput,
  PurgeResult,
  QueuedDelivery,
  ReplayRangeResult,
  RotatedSecret,
  Scope,
  StreamEvent,
  Webhook,
  WebhookBacklog,
  WebhookInput,
  WebhookSecret,
  WebhookTestResult,
} from './types.js';

const enc = encodeURIComponent;
const q = (o: object) => o as Record<string, QueryValue>;

/** A delivery list (a webhook's or an event's), following `nextCursor` across pages. */
function deliveryPages(http: HttpClient, path: string, query: { cursor?: string }): Paginated<Delivery> {
  return new Paginated(async (cursor) => {
    const page = await http.request<{ deliveries: Delivery[]; nextCursor?: string | null }>('GET', path, {
      query: q({ ...query, cursor: cursor ?? query.cursor }),
    });
    return { items: page.deliveries, nextCursor: page.nextCursor };
  });
}

/** `?force=true` when asked for. */
const forceQuery = (force: boolean | undefined) => (force ? { force: 'true' } : undefined);

/** Events of the built-in catalog and of the custom types `C` (see `CustomEvents`). */
export class EventsApi<C extends CustomEvents = NoCustomEvents> {
  constructor(private readonly http: HttpClient) {}

  /**
   * Publishes one event (202 → its envelope). Without `input.id` an idempotency key is generated, and every retry of
   * this call (network error, 502/503/504) sends the same key: the event is stored and fanned out once.
   */
  publish<K extends EventName<C>>(input: PublishInput<K, C>, opts: { signal?: AbortSignal } = {}): Promise<Envelope<K, C>> {
    const id = input.id ?? newIdempotencyKey();
    return this.http.request('POST', '/api/v1/events', {
      body: { type: input.type, data: input.data, id },
      headers: { 'idempotency-key': id },
      signal: opts.signal,
    });
  }

  /** Publishes up to 1000 events; one result per input, in order. Inputs without `id` get one (retries are safe). */
  async publishBatch(events: ReadonlyArray<PublishInput<EventName<C>, C>>, opts: { signal?: AbortSignal } = {}): Promise<BatchResult[]> {
    const body = { events: events.map((e) => ({ type: e.type, data: e.data, id: e.id ?? newIdempotencyKey() })) };
    const res = await this.http.request<{ results: BatchResult[] }>('POST', '/api/v1/events/batch', {
      body,
      retry: true,
      signal: opts.signal,
    });
    return res.results;
  }

  /** Every matching event, newest first, following `nextCursor` across pages. */
  history(query: HistoryQuery = {}): Paginated<Envelope<EventName<C>, C>> {
    return new Paginated(async (cursor) => {
      const page = await this.http.request<{ events: Envelope<EventName<C>, C>[]; nextCursor: string | null }>(
        'GET',
        '/api/v1/events/history',
        {
          query: q({ ...query, cursor: cursor ?? query.cursor }),
        },
      );
      return { items: page.events, nextCursor: page.nextCursor };
    });
  }

  get(id: string): Promise<Envelope<EventName<C>, C>> {
    return this.http.request('GET', `/api/v1/events/${enc(id)}`);
  }

  /**
   * Every delivery of one event to the organization's webhooks, newest first, following `nextCursor` across pages
   * (needs the `webhooks:read` scope; an event id the organization does not have is a 404 `HumanaApiError`).
   */
  deliveries(id: string, query: PageQuery = {}): Paginated<Delivery> {
    return deliveryPages(this.http, `/api/v1/events/${enc(id)}/deliveries`, query);
  }

  /** Server-Sent Events as an async iterator; reconnects with backoff and resumes after the last id seen. */
  stream(opts: StreamOptions = {}): ResumableIterator<StreamEvent<EventName<C>, C>> {
    return openStream(this.http, opts) as ResumableIterator<StreamEvent<EventName<C>, C>>;
  }

  /** The raw WebSocket protocol (/api/v1/ws) as an async iterator; reconnects and resumes like `stream`. */
  socket(opts: SocketOptions = {}): ResumableIterator<StreamEvent<EventName<C>, C>> {
    return openSocket(this.http, opts) as ResumableIterator<StreamEvent<EventName<C>, C>>;
  }

  /** The organization's delivery metrics over a window (default `1h`). */
  metrics(opts: { window?: MetricsWindow } = {}): Promise<EventMetrics> {
    return this.http.request('GET', '/api/v1/events/metrics', { query: { window: opts.window } });
  }
}

export class WebhooksApi {
  constructor(private readonly http: HttpClient) {}

  /** Creates a webhook; the answer carries the `secret` (generated `whsec_…` when none is given), shown only here. */
  create(input: WebhookInput): Promise<CreatedWebhook> {
    return this.http.request('POST', '/api/v1/webhooks', { body: input });
  }

  list(opts: { limit?: number } = {}): Paginated<Webhook> {
    return new Paginated(async (cursor) => {
      const page = await this.http.request<{ webhooks: Webhook[]; nextCursor: string | null }>('GET', '/api/v1/webhooks', {
        query: { limit: opts.limit, cursor },
      });
      return { items: page.webhooks, nextCursor: page.nextCursor };
    });
  }

  get(id: string): Promise<Webhook> {
    return this.http.request('GET', `/api/v1/webhooks/${enc(id)}`);
  }

  /** PUT: replaces the whole configuration (the secret is kept). */
  update(id: string, input: WebhookInput): Promise<Webhook> {
    return this.http.request('PUT', `/api/v1/webhooks/${enc(id)}`, { body: input });
  }

  patch(id: string, changes: Partial<WebhookInput>): Promise<Webhook> {
    return this.http.request('PATCH', `/api/v1/webhooks/${enc(id)}`, { body: changes });
  }

  delete(id: string): Promise<void> {
    return this.http.request('DELETE', `/api/v1/webhooks/${enc(id)}`);
  }

  secret(id: string): Promise<WebhookSecret> {
    return this.http.request('GET', `/api/v1/webhooks/${enc(id)}/secret`);
  }

  /** New secret (given or generated); the previous one keeps being signed with for a grace period. */
  rotateSecret(id: string, secret?: string): Promise<RotatedSecret> {
    return this.http.request('POST', `/api/v1/webhooks/${enc(id)}/secret/rotate`, { body: secret === undefined ? {} : { secret } });
  }

  /** Sends a `webhook.test` event now and reports the attempt. */
  test(id: string): Promise<WebhookTestResult> {
    return this.http.request('POST', `/api/v1/webhooks/${enc(id)}/test`);
  }

  deliveries(id: string, query: DeliveryQuery = {}): Paginated<Delivery> {
    return deliveryPages(this.http, `/api/v1/webhooks/${enc(id)}/deliveries`, query);
  }

  delivery(id: string, deliveryId: string): Promise<DeliveryDetail> {
    return this.http.request('GET', `/api/v1/webhooks/${enc(id)}/deliveries/${enc(deliveryId)}`);
  }

  /** A new delivery of the same event. */
  replayDelivery(id: string, deliveryId: string): Promise<QueuedDelivery> {
    return this.http.request('POST', `/api/v1/webhooks/${enc(id)}/deliveries/${enc(deliveryId)}/replay`);
  }

  /** Re-delivers the retained events of a time range that the webhook matches. */
  replay(id: string, range: { from: string; to: string; eventTypes?: string[] }): Promise<ReplayRangeResult> {
    return this.http.request('POST', `/api/v1/webhooks/${enc(id)}/replay`, { body: range });
  }

  /** Stops deliveries: matching events wait in the backlog (none attempted, none dead-lettered). */
  pause(id: string): Promise<Webhook> {
    return this.http.request('POST', `/api/v1/webhooks/${enc(id)}/pause`);
  }

  /** Starts deliveries again: the backlog drains in log order. */
  resume(id: string): Promise<Webhook> {
    return this.http.request('POST', `/api/v1/webhooks/${enc(id)}/resume`);
  }

  /** How many deliveries wait (paused or rate-limited) and the publish time of the oldest. */
  backlog(id: string): Promise<WebhookBacklog> {
    return this.http.request('GET', `/api/v1/webhooks/${enc(id)}/backlog`);
  }

  /** The webhook's delivery metrics over a window (default `1h`), with per-variant figures. */
  metrics(id: string, opts: { window?: MetricsWindow } = {}): Promise<EventMetrics> {
    return this.http.request('GET', `/api/v1/webhooks/${enc(id)}/metrics`, { query: { window: opts.window } });
  }

  /** Previews a JSONata transform on an event. */
  transformTest(
    transform: string,
    event: { type: string; data: Record<string, unknown>; [k: string]: unknown },
  ): Promise<{ body: unknown }> {
    return this.http.request('POST', '/api/v1/webhooks/transform/test', { body: { transform, event } });
  }
}

export class DlqApi {
  constructor(private readonly http: HttpClient) {}

  list(filter: DlqFilter & { limit?: number } = {}): Paginated<FailedWebhook> {
    return new Paginated(async (cursor) => {
      const page = await this.http.request<{ failedWebhooks: FailedWebhook[]; nextCursor: string | null }>('GET', '/api/v1/dlq', {
        query: q({ ...filter, cursor }),
      });
      return { items: page.failedWebhooks, nextCursor: page.nextCursor };
    });
  }

  retry(id: string): Promise<QueuedDelivery> {
    return this.http.request('POST', `/api/v1/dlq/${enc(id)}/retry`);
  }

  /** Retries every entry matching the filters. */
  retryAll(filter: DlqFilter = {}): Promise<BulkRetryResult> {
    return this.http.request('POST', '/api/v1/dlq/retry', { body: filter });
  }

  purge(olderThan: Date | string): Promise<PurgeResult> {
    return this.http.request('DELETE', '/api/v1/dlq', {
      query: { olderThan: typeof olderThan === 'string' ? olderThan : olderThan.toISOString() },
    });
  }
}

/** The catalog: built-in types and the organization's own (`category.action` names, JSON Schema draft 2020-12). */
export class EventTypesApi {
  constructor(private readonly http: HttpClient) {}

  async list(): Promise<EventTypeInfo[]> {
    return (await this.http.request<{ eventTypes: EventTypeInfo[] }>('GET', '/api/v1/event-types')).eventTypes;
  }

  /** A built-in or own type (another organization's: 404). */
  get(name: string): Promise<EventTypeInfo> {
    return this.http.request('GET', `/api/v1/event-types/${enc(name)}`);
  }

  /** Registers a type (201); 409 for a built-in name, an existing name or the per-organization limit. */
  create(input: EventTypeInput): Promise<EventTypeInfo> {
    return this.http.request('POST', '/api/v1/event-types', { body: input });
  }

  /**
   * Replaces description, schema and examples; a schema change bumps `version`. A schema that rejects stored
   * examples or recently accepted events is refused (409 `incompatible_schema`) unless `force`.
   */
  update(name: string, change: EventTypeChange, opts: { force?: boolean } = {}): Promise<EventTypeInfo> {
    return this.http.request('PUT', `/api/v1/event-types/${enc(name)}`, { body: change, query: forceQuery(opts.force) });
  }

  /** Deletes an own type; 409 `event_type_in_use` while webhooks name it, unless `force`. */
  delete(name: string, opts: { force?: boolean } = {}): Promise<void> {
    return this.http.request('DELETE', `/api/v1/event-types/${enc(name)}`, { query: forceQuery(opts.force) });
  }

  /** The AsyncAPI 3 document (SSE, WebSocket, webhook payloads), with the organization's own types. */
  asyncapi(): Promise<Record<string, unknown>> {
    return this.http.request('GET', '/api/v1/asyncapi.json');
  }
}

/** Health checks (no API key needed). A 503 is an answer here: the report is returned, not thrown. */
export class HealthApi {
  constructor(private readonly http: HttpClient) {}

  /** The event system's checks and gauges (seed shape). */
  events(): Promise<EventSystemHealth> {
    return this.http.request('GET', '/api/v1/events/health', { answerStatuses: [503] });
  }

  /** Liveness: the process answers. */
  live(): Promise<ProbeResult> {
    return this.http.request('GET', '/health/live', { answerStatuses: [503] });
  }

  /** Readiness: Redis and the database answer. */
  ready(): Promise<ProbeResult> {
    return this.http.request('GET', '/health/ready', { answerStatuses: [503] });
  }
}

export class AuditLogApi {
  constructor(private readonly http: HttpClient) {}

  /** The organization's changes, newest first (scope `audit:read`). */
  list(query: { action?: string; limit?: number } = {}): Paginated<AuditEntry> {
    return new Paginated(async (cursor) => {
      const page = await this.http.request<{ entries: AuditEntry[]; nextCursor: string | null }>('GET', '/api/v1/audit-log', {
        query: q({ ...query, cursor }),
      });
      return { items: page.entries, nextCursor: page.nextCursor };
    });
  }
}

/** The operator API: needs a client whose `apiKey` is the server's `ADMIN_TOKEN`. */
export class AdminApi {
  constructor(private readonly http: HttpClient) {}

  createOrganization(name: string): Promise<CreatedOrganization> {
    return this.http.request('POST', '/api/v1/admin/organizations', { body: { name } });
  }

  async listOrganizations(): Promise<Organization[]> {
    return (await this.http.request<{ organizations: Organization[] }>('GET', '/api/v1/admin/organizations')).organizations;
  }

  /** Sets the organization's limits (absent ones: unlimited). */
  setLimits(organizationId: string, limits: OrganizationLimits): Promise<{ id: string; limits: OrganizationLimits }> {
    return this.http.request('PATCH', `/api/v1/admin/organizations/${enc(organizationId)}/limits`, { body: limits });
  }

  /** A new API key (all scopes unless given); `key` is shown only here. */
  createApiKey(organizationId: string, opts: { name?: string; scopes?: Scope[] } = {}): Promise<CreatedApiKey> {
    return this.http.request('POST', `/api/v1/admin/organizations/${enc(organizationId)}/api-keys`, { body: opts });
  }

  revokeApiKey(organizationId: string, keyId: string): Promise<void> {
    return this.http.request('DELETE', `/api/v1/admin/organizations/${enc(organizationId)}/api-keys/${enc(keyId)}`);
  }
}

/**
 * The Humana Events client: `new HumanaEvents({ baseUrl, apiKey })`. With the organization's own types
 * (`npx humana-events types --out events.ts`), `new HumanaEvents<CustomEventDataMap>(…)` type-checks them too.
 */
export class HumanaEvents<C extends CustomEvents = NoCustomEvents> {
  readonly http: HttpClient;
  readonly events: EventsApi<C>;
  readonly webhooks: WebhooksApi;
  readonly dlq: DlqApi;
  readonly eventTypes: EventTypesApi;
  readonly health: HealthApi;
  readonly auditLog: AuditLogApi;
  readonly admin: AdminApi;

  constructor(opts: ClientOptions) {
    this.http = new HttpClient(opts);
    this.events = new EventsApi<C>(this.http);
    this.webhooks = new WebhooksApi(this.http);
    this.dlq = new DlqApi(this.http);
    this.eventTypes = new EventTypesApi(this.http);
    this.health = new HealthApi(this.http);
    this.auditLog = new AuditLogApi(this.http);
    this.admin = new AdminApi(this.http);
  }
}
