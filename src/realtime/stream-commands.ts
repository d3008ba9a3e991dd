import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { ApiError, type ErrorDetail } from '../common/api-error.js';
import { newId } from '../common/ids.js';
import { parseOrThrow } from '../common/validation.js';
import { eventSchemas } from '../events/catalog.js';
import { EventTypeDirectory } from '../events/event-type-directory.js';
import { EventPublisher } from '../events/publisher.js';
import { EventFanout } from './event-fanout.js';
import { LogReplay } from './log-replay.js';
import type { StreamConnection, StreamSubscription } from './stream-connection.js';
import { assertKnownTypes, filterFromPayload, resumePointOf, subscribePayloadSchema } from './stream-filter.js';

export const MAX_SUBSCRIPTIONS_PER_CONNECTION = 100;

const unsubscribeSchema = z.strictObject({ subscriptionId: z.string().max(64).optional() });

const messageSent = eventSchemas['message.sent'].shape;
const chatSchema = z.strictObject({
  companionId: messageSent.companionId,
  userId: messageSent.userId,
  content: messageSent.content.max(64 * 1024),
  type: messageSent.type.optional(),
});

export interface CommandError {
  code: string;
  message: string;
  details?: ErrorDetail[];
}

/** Any thrown value as the `{code, message, details?}` the socket protocols answer with. */
export function commandError(err: unknown): CommandError {
  if (err instanceof ApiError) return { code: err.code, message: err.message, ...(err.details.length ? { details: err.details } : {}) };
  return { code: 'internal_error', message: 'Internal error' };
}

/** The socket commands shared by the raw WebSocket protocol and the Socket.IO gateway. Errors are thrown as ApiError. */
@Injectable()
export class StreamCommands {
  constructor(
    private readonly fanout: EventFanout,
    private readonly replay: LogReplay,
    private readonly publisher: EventPublisher,
    private readonly eventTypes: EventTypeDirectory,
  ) {}

  /**
   * Adds a subscription (fields left out fall back to the connection's query filters); the first explicit subscribe
   * replaces the implicit one the query created. `onAttached` gets the ack, which the client receives before any event
   * of the new subscription; with `lastEventId`, what it missed is replayed before live events.
   */
  async subscribe(conn: StreamConnection, payload: unknown, onAttached: (ack: { subscriptionId: string }) => void): Promise<void> {
    const p = parseOrThrow(subscribePayloadSchema, payload ?? {}, 'payload');
    await assertKnownTypes(this.eventTypes, conn.organizationId, p.events, 'payload.events');
    const after = resumePointOf(p.lastEventId);
    if (after) await this.replay.assertKnown(conn.organizationId, after);
    if (conn.closed) return;
    if (conn.implicit) {
      this.fanout.detach([conn.implicit]);
      conn.subscriptions.delete(conn.implicit.id);
      conn.implicit = null;
    }
    if (conn.subscriptions.size >= MAX_SUBSCRIPTIONS_PER_CONNECTION) {
      throw new ApiError(429, 'too_many_subscriptions', `A connection holds at most ${MAX_SUBSCRIPTIONS_PER_CONNECTION} subscriptions`);
    }
    const sub = conn.newSubscription(filterFromPayload(p, conn.defaults));
    conn.subscriptionsChanged();
    onAttached({ subscriptionId: sub.id });
    await this.fanout.start(conn, [sub], after);
  }

  /** One subscription by id, or all of them (the implicit one included) without. */
  unsubscribe(conn: StreamConnection, payload: unknown): { unsubscribed: string[] } {
    const { subscriptionId } = parseOrThrow(unsubscribeSchema, payload ?? {}, 'payload');
    let removed: StreamSubscription[];
    if (subscriptionId === undefined) removed = [...conn.subscriptions.values()];
    else {
      const sub = conn.subscriptions.get(subscriptionId);
      if (!sub) throw ApiError.notFound(`Subscription ${subscriptionId}`);
      removed = [sub];
    }
    this.fanout.detach(removed);
    for (const s of removed) conn.subscriptions.delete(s.id);
    if (conn.implicit && !conn.subscriptions.has(conn.implicit.id)) conn.implicit = null;
    conn.subscriptionsChanged();
    return { unsubscribed: removed.map((s) => s.id) };
  }

  /** Publishes a `message.sent` through the in-process publisher (needs `events:write`). */
  async chat(conn: StreamConnection, payload: unknown): Promise<{ messageId: string; eventId: string }> {
    if (!conn.principal.scopes.has('events:write')) throw ApiError.forbidden('This API key lacks the "events:write" scope needed to chat');
    const p = parseOrThrow(chatSchema, payload ?? {}, 'payload');
    const messageId = newId('msg');
    const { event } = await this.publisher.publishTyped(conn.organizationId, 'message.sent', {
      messageId,
      companionId: p.companionId,
      userId: p.userId,
      content: p.content,
      type: p.type ?? 'text',
      metadata: { source: 'websocket' },
    });
    return { messageId, eventId: event.id };
  }
}
