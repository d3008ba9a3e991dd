import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { ApiError, type ErrorDetail } from '../common/api-error.js';
import { traceparentOf, withSpan } from '../common/tracing.js';
import { detailsMessage, issuesToDetails } from '../common/validation.js';
import { eventSchemas, isEventType, type EventDataMap, type EventType } from './catalog.js';
import type { LoggedEvent } from './envelope.js';
import { EventTypeDirectory, type CustomEventType } from './event-type-directory.js';
import { EventLog, type LogAppend } from './event-log.js';

export const MAX_BATCH = 1000;
const NO_CUSTOM_TYPES: ReadonlyMap<string, CustomEventType> = new Map();
export const MAX_EVENT_DATA_BYTES = 256 * 1024;

const idempotencyKeySchema = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');

export const publishInputSchema = z.strictObject({
  type: z.string().min(1).max(64),
  data: z.record(z.string(), z.unknown()),
  id: idempotencyKeySchema.optional(),
});

export interface PublishOk {
  event: LoggedEvent;
  duplicate: boolean;
}
export type PublishItemResult = PublishOk | { error: { status: number; code: string; message: string; details: ErrorDetail[] } };

/** Hooks other modules register to run before events enter the log (quotas, rate limits). */
export interface PublishGate {
  /**
   * Throws an ApiError to refuse (e.g. 429); called once per publish call with the accepted count.
   * May return a callback to run once the admitted events were appended (so what it publishes follows them in the log).
   */
  admit(organizationId: string, count: number): Promise<void | (() => void)>;
}

/** Called after events entered the log (metrics); must not throw. */
export type PublishListener = (organizationId: string, results: readonly PublishOk[]) => void;

/** Called when a gate refused a publish, with the refusal's error code (metrics); must not throw. */
export type RefusalListener = (organizationId: string, code: string) => void;

export interface PublishOptions {
  /** Platform events (error.occurred, quota.*, performance.degraded): not counted against or blocked by the gates. */
  system?: boolean;
}

/**
 * The single way into the event log, for HTTP and in-process callers alike:
 * validation against the catalog, timestamp fill-in, idempotency, then one atomic append.
 */
@Injectable()
export class EventPublisher {
  private gates: PublishGate[] = [];
  private listeners: PublishListener[] = [];
  private refusalListeners: RefusalListener[] = [];

  constructor(
    private readonly log: EventLog,
    private readonly directory: EventTypeDirectory,
  ) {}

  addGate(gate: PublishGate): void {
    this.gates.push(gate);
  }

  onPublished(listener: PublishListener): void {
    this.listeners.push(listener);
  }

  onRefused(listener: RefusalListener): void {
    this.refusalListeners.push(listener);
  }

  /**
   * The organization's own types, looked up only when some input names a type outside the built-in catalog
   * (the built-in path never waits on the registry).
   */
  async customTypesFor(organizationId: string, inputs: readonly unknown[]): Promise<ReadonlyMap<string, CustomEventType>> {
    const needed = inputs.some((i) => {
      const type = i && typeof i === 'object' ? (i as { type?: unknown }).type : undefined;
      return typeof type === 'string' && !isEventType(type);
    });
    return needed ? this.directory.customTypes(organizationId) : NO_CUSTOM_TYPES;
  }

  /**
   * Validates one input; returns the log item or a typed error. `traceparent`: the publish's trace context;
   * `custom`: the organization's own types (customTypesFor), validated with their JSON Schema.
   */
  prepare(
    organizationId: string,
    input: unknown,
    idempotencyKey?: string,
    traceparent?: string,
    custom: ReadonlyMap<string, CustomEventType> = NO_CUSTOM_TYPES,
  ): LogAppend | ApiError {
    const envelope = publishInputSchema.safeParse(input);
    if (!envelope.success) {
      const details = issuesToDetails(envelope.error.issues);
      return ApiError.badRequest(detailsMessage(details), details);
    }
    const { type, id } = envelope.data;
    const now = new Date().toISOString();
    let data: Record<string, unknown>;
    if (isEventType(type)) {
      const withTs = { ...envelope.data.data, timestamp: envelope.data.data.timestamp ?? now };
      const parsed = eventSchemas[type].safeParse(withTs);
      if (!parsed.success) {
        const details = issuesToDetails(parsed.error.issues, 'data');
        return ApiError.badRequest(`Invalid "${type}" event: ${detailsMessage(details)}`, details);
      }
      data = parsed.data;
    } else {
      const own = custom.get(type);
      if (!own) {
        return new ApiError(422, 'unknown_event_type', `Unknown event type "${type}"; GET /api/v1/event-types lists them`, [
          { field: 'type', message: `unknown event type "${type}"` },
        ]);
      }
      // Custom types: the data is stored exactly as sent and validated (the envelope carries the timestamp).
      const failures = own.validate(envelope.data.data);
      if (failures)
        return ApiError.badRequest(`Invalid "${type}" event (schema version ${own.version}): ${detailsMessage(failures)}`, failures);
      data = envelope.data.data;
    }
    const dataJson = JSON.stringify(data);
    if (Buffer.byteLength(dataJson) > MAX_EVENT_DATA_BYTES) {
      return new ApiError(413, 'payload_too_large', `Event data exceeds ${MAX_EVENT_DATA_BYTES} bytes`);
    }
    const key = id ?? idempotencyKey;
    return {
      organizationId,
      // An organization's own type travels as its name: envelopes are typed by the built-in catalog only.
      type: type as EventType,
      timestamp: now,
      data,
      dataJson,
      idempotencyKey: key ? this.log.idempotencyKey(organizationId, key) : undefined,
      traceparent,
    };
  }

  /** Publishes one event or throws an ApiError (400/413/422/429/503). */
  async publish(organizationId: string, input: unknown, idempotencyKey?: string, opts: PublishOptions = {}): Promise<PublishOk> {
    return withSpan('events.publish', { 'humana.organization_id': organizationId }, async (span, ctx) => {
      const custom = await this.customTypesFor(organizationId, [input]);
      const item = this.prepare(organizationId, input, idempotencyKey, traceparentOf(ctx), custom);
      if (item instanceof ApiError) throw item;
      const [result] = await this.admitted(organizationId, opts.system ? 0 : 1, [item]);
      span.setAttributes({ 'humana.event_id': result.event.id, 'humana.event_type': result.event.type });
      return result;
    });
  }

  /** Typed in-process publishing for platform code (system events, WS chat). */
  publishTyped<K extends EventType>(
    organizationId: string,
    type: K,
    data: Omit<EventDataMap[K], 'timestamp'> & { timestamp?: string },
    opts: PublishOptions = {},
  ): Promise<PublishOk> {
    return this.publish(organizationId, { type, data }, undefined, opts);
  }

  /** Publishes up to MAX_BATCH events; one result per input, in order. Invalid items do not block valid ones. */
  async publishBatch(organizationId: string, inputs: unknown[]): Promise<PublishItemResult[]> {
    return withSpan(
      'events.publish_batch',
      { 'humana.organization_id': organizationId, 'humana.batch_size': inputs.length },
      async (_span, ctx) => {
        const traceparent = traceparentOf(ctx);
        const custom = await this.customTypesFor(organizationId, inputs);
        const prepared = inputs.map((input) => this.prepare(organizationId, input, undefined, traceparent, custom));
        const valid = prepared.filter((p): p is LogAppend => !(p instanceof ApiError));
        const appended = await this.admitted(organizationId, valid.length, valid);
        let next = 0;
        return prepared.map((p) => (p instanceof ApiError ? { error: errorOf(p) } : appended[next++]));
      },
    );
  }

  /** Passes `count` events through the gates (none when 0), then appends the items. */
  private async admitted(organizationId: string, count: number, items: LogAppend[]): Promise<PublishOk[]> {
    const afterAppend: (() => void)[] = [];
    for (const gate of count ? this.gates : []) {
      let after: void | (() => void);
      try {
        after = await gate.admit(organizationId, count);
      } catch (err) {
        if (err instanceof ApiError) for (const listener of this.refusalListeners) listener(organizationId, err.code);
        throw err;
      }
      if (after) afterAppend.push(after);
    }
    try {
      return await this.append(organizationId, items);
    } finally {
      for (const after of afterAppend) after();
    }
  }

  private async append(organizationId: string, items: LogAppend[]): Promise<PublishOk[]> {
    let results: PublishOk[];
    try {
      results = await this.log.append(items);
    } catch (err) {
      if (err instanceof ApiError) throw err; // replication_timeout: appended, not yet on enough replicas
      throw ApiError.unavailable(`Event log unavailable, the event was not accepted: ${(err as Error).message}`);
    }
    for (const listener of this.listeners) listener(organizationId, results);
    return results;
  }
}

function errorOf(e: ApiError) {
  return { status: e.getStatus(), code: e.code, message: e.message, details: e.details };
}
