import type { EventType } from './catalog.js';

/** What every consumer sees: webhooks, streams, history. */
export interface EventEnvelope<T extends string = EventType> {
  id: string;
  type: T;
  organizationId: string;
  timestamp: string;
  data: Record<string, unknown>;
}

/** An envelope with its position in the log (for resume and ordering). */
export interface LoggedEvent extends EventEnvelope {
  streamId: string;
  /** Trace context of the publish (not part of the public envelope). */
  traceparent?: string;
}

/** Only the contract's envelope fields (log positions and other internals never leave). */
export function envelopeOf(e: EventEnvelope): EventEnvelope {
  return { id: e.id, type: e.type, organizationId: e.organizationId, timestamp: e.timestamp, data: e.data };
}
