import { EventSource } from 'eventsource';
import WebSocket from 'ws';
import { io, type Socket } from 'socket.io-client';
import { EVENT_TYPES, exampleEvents, type EventType } from '../../src/events/catalog.js';
import { createOrg, startTestApp, type TestApp, type TestOrg } from '../support/launcher.js';
import { waitFor } from '../support/time.js';

/** Short real-time timings for tests (the formula is the same as in production). */
export const RT_ENV = { HEARTBEAT_INTERVAL_MS: '300' };

export interface RealtimeSuite {
  app: TestApp;
  a: TestOrg;
  b: TestOrg;
  /** Registers a client to close before the app. */
  track<T extends { close(): void }>(client: T): T;
  close(): Promise<void>;
}

/** A test app with short real-time timings and two organizations, A and B. */
export async function startRealtimeApp(): Promise<RealtimeSuite> {
  const app = await startTestApp({ env: RT_ENV });
  const clients: { close(): void }[] = [];
  return {
    app,
    a: await createOrg(app, 'A'),
    b: await createOrg(app, 'B'),
    track: (client) => (clients.push(client), client),
    close: async () => {
      for (const c of clients) c.close();
      await app.close();
    },
  };
}

export interface Published {
  id: string;
  type: EventType;
  data: Record<string, unknown>;
}

/** An event of `type` built from the catalog example, with `data` overrides. */
export function eventOf(type: EventType, data: Record<string, unknown> = {}) {
  return { type, data: { ...exampleEvents[type], ...data } };
}

export async function publish(app: TestApp, org: TestOrg, type: EventType, data: Record<string, unknown> = {}): Promise<Published> {
  const res = await app.http.post('/api/v1/events').set(org.auth).send(eventOf(type, data)).expect(202);
  return { id: res.body.id, type, data: res.body.data };
}

/** Publishes in one batch request; returns the ids in order. */
export async function publishBatch(
  app: TestApp,
  org: TestOrg,
  events: { type: EventType; data: Record<string, unknown> }[],
): Promise<string[]> {
  const res = await app.http.post('/api/v1/events/batch').set(org.auth).send({ events }).expect(202);
  return res.body.results.map((r: { id?: string; error?: unknown }) => {
    if (!r.id) throw new Error(`batch item refused: ${JSON.stringify(r.error)}`);
    return r.id;
  });
}

export interface SseMessage {
  type: string;
  id: string;
  data: Record<string, unknown>;
  at: number;
}

/**
 * An `eventsource` (v4) client collecting every event type, heartbeats and error frames. v4 has no `headers` option:
 * headers go through its `fetch` option (this is how the seed's `headers: { Authorization }` is written with v4).
 */
export class SseClient {
  readonly messages: SseMessage[] = [];
  readonly es: EventSource;
  opened: Promise<void>;

  constructor(url: string, opts: { key?: string; lastEventId?: string } = {}) {
    this.es = new EventSource(url, {
      fetch: (input, init) =>
        fetch(input, {
          ...init,
          headers: {
            ...(opts.key ? { Authorization: `Bearer ${opts.key}` } : {}),
            ...(opts.lastEventId ? { 'Last-Event-ID': opts.lastEventId } : {}),
            ...init.headers,
          },
        }),
    });
    for (const type of [...EVENT_TYPES, 'heartbeat', 'error']) {
      this.es.addEventListener(type, (e) => {
        if (!('data' in e)) return; // connection errors are plain Events
        const m = e as MessageEvent;
        this.messages.push({ type, id: m.lastEventId, data: JSON.parse(m.data as string), at: Date.now() });
      });
    }
    this.opened = new Promise((resolve, reject) => {
      this.es.addEventListener('open', () => resolve(), { once: true });
      this.es.addEventListener('error', (e) => this.es.readyState === EventSource.CLOSED && reject(e), { once: true });
    });
  }

  events(): SseMessage[] {
    return this.messages.filter((m) => m.type !== 'heartbeat' && m.type !== 'error');
  }

  ids(): string[] {
    return this.events().map((m) => m.id);
  }

  async waitForEvents(n: number, timeoutMs = 10_000): Promise<SseMessage[]> {
    await waitFor(() => this.events().length >= n, timeoutMs, 20);
    return this.events();
  }

  close(): void {
    this.es.close();
  }
}

export function sseUrl(app: TestApp, query = ''): string {
  return `${app.url}/api/v1/events/stream${query ? `?${query}` : ''}`;
}

export function wsUrl(app: TestApp, query = ''): string {
  return `${app.url.replace(/^http/, 'ws')}/api/v1/ws${query ? `?${query}` : ''}`;
}

export type WsMessage = {
  type: string;
  requestId?: string;
  payload: Record<string, unknown> & { code?: string; eventId?: string; eventType?: string };
};

/** A `ws` client recording every JSON frame it receives. */
export class WsClient {
  readonly messages: WsMessage[] = [];
  closed?: { code: number; reason: string };

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => this.messages.push(JSON.parse(d.toString())));
    ws.on('close', (code, reason) => (this.closed = { code, reason: reason.toString() }));
    ws.on('error', () => undefined);
  }

  static open(url: string, opts: WebSocket.ClientOptions = {}): Promise<WsClient> {
    const ws = new WebSocket(url, opts);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new WsClient(ws)));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c));
        res.on('end', () =>
          reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, body: JSON.parse(body || '{}') })),
        );
      });
      ws.once('error', reject);
    });
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  /** Sends and waits for the reply carrying the same requestId. */
  async request(msg: { type: string; requestId: string; payload?: unknown }, timeoutMs = 5000): Promise<WsMessage> {
    this.send(msg);
    return this.next((m) => m.requestId === msg.requestId, timeoutMs);
  }

  async next(pred: (m: WsMessage) => boolean, timeoutMs = 5000): Promise<WsMessage> {
    return (await waitFor(() => this.messages.find(pred), timeoutMs, 10))!;
  }

  events(): WsMessage[] {
    return this.messages.filter((m) => m.type === 'event');
  }

  eventIds(): string[] {
    return this.events().map((m) => m.payload.eventId as string);
  }

  close(): void {
    this.ws.terminate();
  }
}

export interface SioEvent {
  type: string;
  envelope: { id: string; type: string; organizationId: string; data: Record<string, unknown> };
}

/** A socket.io-client on `/events` recording every event it receives. */
export function sioConnect(
  app: TestApp,
  token: string | undefined,
  opts: Parameters<typeof io>[1] = {},
): { socket: Socket; received: SioEvent[] } {
  const socket = io(`${app.url}/events`, { auth: token ? { token } : {}, transports: ['websocket'], reconnection: false, ...opts });
  const received: SioEvent[] = [];
  socket.onAny((type: string, envelope: SioEvent['envelope']) => received.push({ type, envelope }));
  return { socket, received };
}

export function sioConnected(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.connected) return resolve();
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
}
