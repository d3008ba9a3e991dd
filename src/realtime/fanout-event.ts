import { streamIdFromEventId } from '../common/ids.js';
import type { EventEnvelope, LoggedEvent } from '../events/envelope.js';

/**
 * One event as the transports send it. Every wire form is built once per event (lazily, for the transports that
 * have a subscriber for it) and shared by all the connections that receive it.
 */
export class FanoutEvent {
  private json?: string;
  private sse?: Buffer;
  private ws?: Buffer;

  constructor(readonly event: LoggedEvent) {}

  static fromEnvelope(e: EventEnvelope): FanoutEvent {
    return new FanoutEvent({ ...e, streamId: streamIdFromEventId(e.id)! });
  }

  get id(): string {
    return this.event.id;
  }

  get streamId(): string {
    return this.event.streamId;
  }

  get dataJson(): string {
    return (this.json ??= JSON.stringify(this.event.data));
  }

  /** Approximate wire size, for buffer accounting. */
  get size(): number {
    return this.dataJson.length + 64;
  }

  /** `event: <type>\nid: <evt id>\ndata: <data JSON>\n\n` (JSON never contains a raw newline). */
  get sseFrame(): Buffer {
    return (this.sse ??= Buffer.from(`event: ${this.event.type}\nid: ${this.event.id}\ndata: ${this.dataJson}\n\n`));
  }

  /** `{"type":"event","payload":{"eventType","eventId","data"}}` (contract section 6). */
  get wsMessage(): Buffer {
    return (this.ws ??= Buffer.from(`{"type":"event","payload":{"eventType":${JSON.stringify(this.event.type)},"eventId":"${this.event.id}","data":${this.dataJson}}}`));
  }

  /** The public envelope (Socket.IO emits it as is). */
  get envelope(): EventEnvelope {
    const { id, type, organizationId, timestamp, data } = this.event;
    return { id, type, organizationId, timestamp, data };
  }
}

/** Stream ids are `<ms>-<seq>`: compare numerically, not as strings. */
export function compareStreamIds(a: string, b: string): number {
  const da = a.indexOf('-');
  const db = b.indexOf('-');
  const ma = Number(a.slice(0, da));
  const mb = Number(b.slice(0, db));
  if (ma !== mb) return ma < mb ? -1 : 1;
  const sa = Number(a.slice(da + 1));
  const sb = Number(b.slice(db + 1));
  return sa === sb ? 0 : sa < sb ? -1 : 1;
}
