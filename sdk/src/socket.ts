import { HumanaApiError } from './errors.js';
import type { HttpClient } from './http.js';
import { AsyncQueue, resumable, type ResumableIterator, type ResumeOptions } from './resume.js';
import type { StreamFilterOptions } from './sse.js';
import type { StreamEvent } from './types.js';

export type SocketOptions = StreamFilterOptions & ResumeOptions;

/** The part of the WebSocket API used here (the browser/Deno/Node ≥ 22 global, or the `ws` package). */
interface WebSocketLike {
  readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: { message?: string; error?: unknown }) => void) | null;
}
type WebSocketCtor = new (url: string, opts?: unknown) => WebSocketLike;

let cached: Promise<{ ctor: WebSocketCtor; isWs: boolean }> | undefined;

/** The global WebSocket when there is one, else the optional peer dependency `ws`. */
function webSocketImpl(): Promise<{ ctor: WebSocketCtor; isWs: boolean }> {
  return (cached ??= (async () => {
    const g = (globalThis as { WebSocket?: WebSocketCtor }).WebSocket;
    if (g) return { ctor: g, isWs: false };
    try {
      const mod = (await import('ws' as string)) as { default?: WebSocketCtor; WebSocket?: WebSocketCtor };
      return { ctor: (mod.default ?? mod.WebSocket)!, isWs: true };
    } catch {
      throw new Error('No WebSocket implementation: use Node ≥ 22, or `npm install ws`');
    }
  })());
}

function text(data: unknown): string {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
  return String(data);
}

/** The raw WebSocket protocol at /api/v1/ws; filters and `lastEventId` go in the query (the implicit subscription). */
export function openSocket(http: HttpClient, opts: SocketOptions): ResumableIterator {
  return resumable(opts, async function* (lastEventId, signal, opened) {
    const { ctor, isWs } = await webSocketImpl();
    const url = new URL(http.url('/api/v1/ws', { events: opts.events, companions: opts.companions, userId: opts.userId, lastEventId }));
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    if (!isWs) url.searchParams.set('access_token', http.apiKey);
    const ws = isWs ? new ctor(url.toString(), { headers: http.headers() }) : new ctor(url.toString());
    const queue = new AsyncQueue<StreamEvent>();
    let open = false;
    ws.onopen = () => {
      open = true;
      opened();
    };
    ws.onmessage = (ev) => {
      let msg: { type?: string; payload?: { eventType?: string; eventId?: string; data?: unknown; code?: string; message?: string } };
      try {
        msg = JSON.parse(text(ev.data));
      } catch {
        return;
      }
      if (msg.type === 'event' && msg.payload?.eventId && msg.payload.eventType) {
        queue.push({ id: msg.payload.eventId, type: msg.payload.eventType, data: msg.payload.data } as StreamEvent);
      }
    };
    ws.onerror = (ev) => {
      const message = ev?.message ?? (ev?.error as Error | undefined)?.message ?? 'WebSocket error';
      const m = /Unexpected server response: (\d+)/.exec(message);
      if (!open && m) queue.end(new HumanaApiError(Number(m[1]), `http_${m[1]}`, `WebSocket upgrade refused: ${message}`));
      else queue.end(new Error(message));
    };
    ws.onclose = (ev) => queue.end(new Error(`WebSocket closed (${ev.code}${ev.reason ? ` ${ev.reason}` : ''})`));
    const onAbort = () => {
      queue.end();
      ws.close(1000);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      yield* queue;
    } finally {
      signal.removeEventListener('abort', onAbort);
      if (ws.readyState <= 1) ws.close(1000);
    }
  });
}
