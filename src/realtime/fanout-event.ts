import { streamIdFromEventId } from '../common/ids.js';
import { envelopeOf, type EventEnvelope, type LoggedEvent } from '../events/envelope.js';

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
    return (this.ws ??= Buffer.from(
      `{"type":"event","payload":{"eventType":${JSON.stringify(this.event.type)},"eventId":"${this.event.id}","data":${this.dataJson}}}`,
    ));
  }

  /** The public envelope (Socket.IO emits it as is). */
  get envelope(): EventEnvelope {
    return envelopeOf(this.event);
  }
}
