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
