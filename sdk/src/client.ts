import { HttpClient, newIdempotencyKey, Paginated, type ClientOptions, type QueryValue } from './http.js';
import type { EventType } from './generated/catalog.js';
import { openSocket, type SocketOptions } from './socket.js';
import { openStream, type StreamOptions } from './sse.js';
import type {
  BatchResult,
  Delivery,
  DeliveryDetail,
  DeliveryQuery,
  DlqFilter,
  Envelope,
  EventTypeInfo,
  FailedWebhook,
  HistoryQuery,
  PublishInput,
  StreamEvent,
  Webhook,
  WebhookInput,
  WebhookTestResult,
} from './types.js';

const enc = encodeURIComponent;
const q = (o: object) => o as Record<string, QueryValue>;

export class EventsApi {
  constructor(private readonly http: HttpClient) {}

  /**
   * Publishes one event (202 → its envelope). Without `input.id` an idempotency key is generated, and every retry of
   * this call (network error, 502/503/504) sends the same key: the event is stored and fanned out once.
   */
  publish<K extends EventType>(input: PublishInput<K>, opts: { signal?: AbortSignal } = {}): Promise<Envelope<K>> {
    const id = input.id ?? newIdempotencyKey();
    return this.http.request('POST', '/api/v1/events', {
      body: { type: input.type, data: input.data, id },
      headers: { 'idempotency-key': id },
      signal: opts.signal,
    });
  }

  /** Publishes up to 1000 events; one result per input, in order. Inputs without `id` get one (retries are safe). */
  async publishBatch(events: ReadonlyArray<PublishInput>, opts: { signal?: AbortSignal } = {}): Promise<BatchResult[]> {
    const body = { events: events.map((e) => ({ type: e.type, data: e.data, id: e.id ?? newIdempotencyKey() })) };
    const res = await this.http.request<{ results: BatchResult[] }>('POST', '/api/v1/events/batch', {
      body,
      retry: true,
      signal: opts.signal,
    });
    return res.results;
  }

  /** Every matching event, newest first, following `nextCursor` across pages. */
  history(query: HistoryQuery = {}): Paginated<Envelope> {
    return new Paginated(async (cursor) => {
      const page = await this.http.request<{ events: Envelope[]; nextCursor: string | null }>('GET', '/api/v1/events/history', {
        query: q({ ...query, cursor: cursor ?? query.cursor }),
      });
      return { items: page.events, nextCursor: page.nextCursor };
    });
  }

  get(id: string): Promise<Envelope> {
    return this.http.request('GET', `/api/v1/events/${enc(id)}`);
  }

  /** Server-Sent Events as an async iterator; reconnects with backoff and resumes after the last id seen. */
  stream(opts: StreamOptions = {}): AsyncIterableIterator<StreamEvent> & { readonly lastEventId: string | undefined } {
    return openStream(this.http, opts);
  }

  /** The raw WebSocket protocol (/api/v1/ws) as an async iterator; reconnects and resumes like `stream`. */
  socket(opts: SocketOptions = {}): AsyncIterableIterator<StreamEvent> & { readonly lastEventId: string | undefined } {
    return openSocket(this.http, opts);
  }
}

export class WebhooksApi {
  constructor(private readonly http: HttpClient) {}

  /** Creates a webhook; the answer carries the `secret` (generated `whsec_…` when none is given), shown only here. */
  create(input: WebhookInput): Promise<Webhook & { secret: string }> {
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

  secret(id: string): Promise<{ secret: string; [k: string]: unknown }> {
    return this.http.request('GET', `/api/v1/webhooks/${enc(id)}/secret`);
  }

  /** New secret (given or generated); the previous one keeps being signed with for a grace period. */
  rotateSecret(id: string, secret?: string): Promise<{ secret: string; [k: string]: unknown }> {
    return this.http.request('POST', `/api/v1/webhooks/${enc(id)}/secret/rotate`, { body: secret === undefined ? {} : { secret } });
  }

  /** Sends a `webhook.test` event now and reports the attempt. */
  test(id: string): Promise<WebhookTestResult> {
    return this.http.request('POST', `/api/v1/webhooks/${enc(id)}/test`);
  }

  deliveries(id: string, query: DeliveryQuery = {}): Paginated<Delivery> {
    return new Paginated(async (cursor) => {
      const page = await this.http.request<{ deliveries: Delivery[]; nextCursor?: string | null }>(
        'GET',
        `/api/v1/webhooks/${enc(id)}/deliveries`,
        {
          query: q({ ...query, cursor: cursor ?? query.cursor }),
        },
      );
      return { items: page.deliveries, nextCursor: page.nextCursor };
    });
  }

  delivery(id: string, deliveryId: string): Promise<DeliveryDetail> {
    return this.http.request('GET', `/api/v1/webhooks/${enc(id)}/deliveries/${enc(deliveryId)}`);
  }

  /** A new delivery of the same event. */
  replayDelivery(id: string, deliveryId: string): Promise<{ deliveryId: string }> {
    return this.http.request('POST', `/api/v1/webhooks/${enc(id)}/deliveries/${enc(deliveryId)}/replay`);
  }

  /** Re-delivers the retained events of a time range that the webhook matches. */
  replay(id: string, range: { from: string; to: string; eventTypes?: string[] }): Promise<Record<string, unknown>> {
    return this.http.request('POST', `/api/v1/webhooks/${enc(id)}/replay`, { body: range });
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

  retry(id: string): Promise<{ deliveryId: string }> {
    return this.http.request('POST', `/api/v1/dlq/${enc(id)}/retry`);
  }

  /** Retries every entry matching the filters. */
  retryAll(filter: DlqFilter = {}): Promise<{ retried: number; skipped?: number; [k: string]: unknown }> {
    return this.http.request('POST', '/api/v1/dlq/retry', { body: filter });
  }

  purge(olderThan: Date | string): Promise<{ purged: number }> {
    return this.http.request('DELETE', '/api/v1/dlq', {
      query: { olderThan: typeof olderThan === 'string' ? olderThan : olderThan.toISOString() },
    });
  }
}

export class EventTypesApi {
  constructor(private readonly http: HttpClient) {}

  async list(): Promise<EventTypeInfo[]> {
    return (await this.http.request<{ eventTypes: EventTypeInfo[] }>('GET', '/api/v1/event-types')).eventTypes;
  }
}

/** The Humana Events client: `new HumanaEvents({ baseUrl, apiKey })`. */
export class HumanaEvents {
  readonly http: HttpClient;
  readonly events: EventsApi;
  readonly webhooks: WebhooksApi;
  readonly dlq: DlqApi;
  readonly eventTypes: EventTypesApi;

  constructor(opts: ClientOptions) {
    this.http = new HttpClient(opts);
    this.events = new EventsApi(this.http);
    this.webhooks = new WebhooksApi(this.http);
    this.dlq = new DlqApi(this.http);
    this.eventTypes = new EventTypesApi(this.http);
  }
}
