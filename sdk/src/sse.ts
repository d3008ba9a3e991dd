import { apiErrorOf, type HttpClient } from './http.js';
import { resumable, type ResumableIterator, type ResumeOptions } from './resume.js';
import type { StreamEvent } from './types.js';

export interface StreamFilterOptions {
  /** Exact types or patterns (`message.*`, `*`). */
  events?: string[];
  /** Companion ids (`data.companionId`), `*` globs allowed. */
  companions?: string[];
  /** `data.userId`. */
  userId?: string;
}

export type StreamOptions = StreamFilterOptions & ResumeOptions;

/** One dispatched SSE message (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation). */
export interface SseMessage {
  event: string;
  data: string;
  id?: string;
  retry?: number;
}

/** Incremental text/event-stream parser: feed decoded text, get complete messages. */
export class SseParser {
  private buf = '';
  private event = '';
  private data: string[] = [];
  private id: string | undefined;
  private retry: number | undefined;
  private hasData = false;

  feed(chunk: string): SseMessage[] {
    this.buf += chunk;
    const out: SseMessage[] = [];
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buf);
      if (!m) break;
      // A lone trailing \r may be the first half of \r\n: wait for more input.
      if (m[0] === '\r' && m.index === this.buf.length - 1) break;
      const line = this.buf.slice(0, m.index);
      this.buf = this.buf.slice(m.index + m[0].length);
      const msg = this.line(line);
      if (msg) out.push(msg);
    }
    return out;
  }

  private line(line: string): SseMessage | undefined {
    if (line === '') {
      const msg = this.hasData ? { event: this.event || 'message', data: this.data.join('\n'), id: this.id, retry: this.retry } : undefined;
      this.event = '';
      this.data = [];
      this.hasData = false;
      this.retry = undefined;
      return msg;
    }
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.event = value;
        break;
      case 'data':
        this.data.push(value);
        this.hasData = true;
        break;
      case 'id':
        if (!value.includes('\0')) this.id = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retry = Number(value);
        break;
    }
    return undefined;
  }
}

/** `GET /api/v1/events/stream` with fetch, parsed here; reconnects with `Last-Event-ID`. */
export function openStream(http: HttpClient, opts: StreamOptions): ResumableIterator {
  return resumable(opts, async function* (lastEventId, signal, opened) {
    const headers = http.headers({ accept: 'text/event-stream' });
    if (lastEventId) headers['last-event-id'] = lastEventId;
    const url = http.url('/api/v1/events/stream', { events: opts.events, companions: opts.companions, userId: opts.userId });
    const res = await http.fetch(url, { headers, signal });
    if (!res.ok) throw await apiErrorOf(res);
    if (!res.body) throw new Error('SSE response has no body');
    opened();
    const parser = new SseParser();
    const decoder = new TextDecoder();
    const reader = res.body.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        for (const msg of parser.feed(decoder.decode(value, { stream: true }))) {
          if (msg.event === 'heartbeat' || msg.event === 'message' || !msg.id) continue;
          yield { id: msg.id, type: msg.event, data: JSON.parse(msg.data) } as StreamEvent;
        }
      }
    } finally {
      reader.cancel().catch(() => undefined);
    }
  });
}
