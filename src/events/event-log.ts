import { Inject, Injectable } from '@nestjs/common';
import { ApiError } from '../common/api-error.js';
import { eventIdFromStreamId } from '../common/ids.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { RedisService, type RedisClient } from '../redis/redis.service.js';
import { appendEvents, appendEventsReplicated } from '../redis/scripts.js';
import type { EventType } from './catalog.js';
import type { LoggedEvent } from './envelope.js';

export interface LogAppend {
  organizationId: string;
  type: EventType;
  timestamp: string;
  data: Record<string, unknown>;
  /** `data` serialised once, for the log entry. */
  dataJson: string;
  /** Key of its idempotency record (EventLog.idempotencyKey), or undefined. */
  idempotencyKey?: string;
  /** W3C trace context of the publish, carried to deliveries (stream field `tp`). */
  traceparent?: string;
}

export type AppendResult = { event: LoggedEvent; duplicate: boolean };

export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

/** The event log: one Redis Stream that history, webhooks and live streams all read. */
@Injectable()
export class EventLog {
  readonly streamKey: string;
  /** REDIS_MIN_REPLICAS_ACK > 0: appends go through a connection of their own, each followed by WAIT on it. */
  private readonly durable?: { conn: RedisClient; replicas: number; timeoutMs: number };

  constructor(
    private readonly redis: RedisService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.streamKey = redis.keys.eventLog();
    if (config.redisMinReplicasAck > 0) {
      const timeoutMs = config.redisWaitTimeoutMs;
      const conn = redis.connect('publish-durable', { maxRetriesPerRequest: 1, commandTimeout: Math.max(5_000, timeoutMs + 2_000) });
      this.durable = { conn, replicas: config.redisMinReplicasAck, timeoutMs };
    }
  }

  /** The idempotency record of `key` (same hash tag as the stream: the append script touches both). */
  idempotencyKey(organizationId: string, key: string): string {
    return this.redis.keys.idempotency(organizationId, key);
  }

  /**
   * Appends a whole batch in one script call (append-events.lua, no MAXLEN: trimming belongs to LogTrimmer, which never
   * drops an entry a consumer group has not processed): idempotency check, append and idempotency record are atomic,
   * so a retried publish can never be appended twice and never lost half-way.
   */
  async append(items: LogAppend[]): Promise<AppendResult[]> {
    if (items.length === 0) return [];
    const raw = this.durable
      ? await this.appendReplicated(items)
      : await appendEvents(this.redis.client, this.streamKey, IDEMPOTENCY_TTL_SECONDS, items);
    return raw.map((r, i) => {
      const duplicate = r[0] === '1';
      if (!duplicate) {
        const it = items[i];
        const streamId = r.slice(1);
        const event: LoggedEvent = {
          id: eventIdFromStreamId(streamId),
          streamId,
          type: it.type,
          organizationId: it.organizationId,
          timestamp: it.timestamp,
          data: it.data,
        };
        if (it.traceparent) event.traceparent = it.traceparent;
        return { duplicate, event };
      }
      const [sid, org, type, ts, ...data] = r.slice(1).split('\n');
      return { duplicate, event: toLogged(sid, org, type, ts, data.join('\n')) };
    });
  }

  /**
   * The append, then WAIT on the master holding the log: answers only once enough replicas have it. Fewer within the
   * timeout: 503 replication_timeout (the events are on the master and may survive or be lost in a failover; the
   * idempotency key makes a retry safe either way).
   */
  private async appendReplicated(items: LogAppend[]): Promise<string[]> {
    const { conn, replicas, timeoutMs } = this.durable!;
    const res = await appendEventsReplicated(conn, this.streamKey, IDEMPOTENCY_TTL_SECONDS, items, replicas, timeoutMs);
    if (res.replicas < replicas) {
      throw new ApiError(
        503,
        'replication_timeout',
        `The event log's Redis master had ${res.replicas} of ${replicas} required replica acknowledgement(s) after ${timeoutMs} ms: ` +
          'the event may or may not exist. Retry with the same id or Idempotency-Key: a retry never publishes it twice.',
        [],
        { 'Retry-After': '1' },
      );
    }
    return res.replies;
  }

  /** Entries strictly after `afterStreamId` (exclusive), oldest first. */
  async readAfter(afterStreamId: string, count: number): Promise<LoggedEvent[]> {
    const rows = await this.redis.client.xrange(this.streamKey, `(${afterStreamId}`, '+', 'COUNT', count);
    return rows.map(([sid, fields]) => parseEntry(sid, fields));
  }

  /**
   * One organization's entries strictly after `afterStreamId`, from the next `count` entries of the log, oldest first.
   * Other organizations' entries are skipped by their `o` field without parsing their data (a resume reads the
   * shared log). `scanned` is how many entries were read and `last` the last stream id read (the next cursor).
   */
  async readAfterFor(
    organizationId: string,
    afterStreamId: string,
    count: number,
  ): Promise<{ events: LoggedEvent[]; scanned: number; last: string | null }> {
    const rows = await this.redis.client.xrange(this.streamKey, `(${afterStreamId}`, '+', 'COUNT', count);
    const events: LoggedEvent[] = [];
    for (const [sid, fields] of rows) if (entryOrganization(fields) === organizationId) events.push(parseEntry(sid, fields));
    return { events, scanned: rows.length, last: rows.length ? rows[rows.length - 1][0] : null };
  }

  /** The oldest stream id still retained, or null when the log is empty. */
  async oldestStreamId(): Promise<string | null> {
    const rows = await this.redis.client.xrange(this.streamKey, '-', '+', 'COUNT', 1);
    return rows.length ? rows[0][0] : null;
  }

  async lastStreamId(): Promise<string> {
    const rows = await this.redis.client.xrevrange(this.streamKey, '+', '-', 'COUNT', 1);
    return rows.length ? rows[0][0] : '0-0';
  }
}

function toLogged(
  streamId: string,
  organizationId: string,
  type: string,
  timestamp: string,
  dataJson: string,
  traceparent?: string,
): LoggedEvent {
  const event: LoggedEvent = {
    id: eventIdFromStreamId(streamId),
    streamId,
    type: type as EventType,
    organizationId,
    timestamp,
    data: JSON.parse(dataJson) as Record<string, unknown>,
  };
  if (traceparent) event.traceparent = traceparent;
  return event;
}

/** The organization of an XREAD/XRANGE entry (its `o` field), without parsing anything else. */
export function entryOrganization(fields: string[]): string | undefined {
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === 'o') return fields[i + 1];
  return undefined;
}

/** Turns an XREAD/XRANGE entry (flat field list) into an event. */
export function parseEntry(streamId: string, fields: string[]): LoggedEvent {
  const f: Record<string, string> = {};
  for (let i = 0; i < fields.length; i += 2) f[fields[i]] = fields[i + 1];
  return toLogged(streamId, f.o, f.t, f.ts, f.d, f.tp);
}
