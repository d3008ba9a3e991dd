import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { ApiError } from '../common/api-error.js';
import { eventIdFromStreamId } from '../common/ids.js';
import { APP_CONFIG, ConfigError, type AppConfig } from '../config/config.js';
import type { HashTag } from '../redis/keys.js';
import { RedisService, type RedisClient } from '../redis/redis.service.js';
import { appendEvents, appendEventsReplicated } from '../redis/scripts.js';
import type { EventType } from './catalog.js';
import type { LoggedEvent } from './envelope.js';
import { partitionCountCheck, partitionOf } from './partitions.js';

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

/**
 * The event log: one Redis Stream per partition (EVENT_LOG_PARTITIONS, default one) that history, webhooks and live
 * streams all read. An organization's events all go to its partition (partitionOf), so one organization's order,
 * idempotency and resume are those of one stream; its event ids carry the partition (src/common/ids.ts).
 */
@Injectable()
export class EventLog implements OnModuleInit {
  private readonly logger = new Logger('EventLog');
  readonly partitions: number;
  /** Stream key of each partition, by partition number. */
  readonly streamKeys: readonly string[];
  /** REDIS_MIN_REPLICAS_ACK > 0: appends go through a connection of their own, each followed by WAIT on it. */
  private readonly durable?: { conn: RedisClient; replicas: number; timeoutMs: number };

  constructor(
    private readonly redis: RedisService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.partitions = config.eventLogPartitions.count;
    this.streamKeys = Array.from({ length: this.partitions }, (_, p) => redis.keys.eventLog(this.partitionTag(p)));
    if (config.redisMinReplicasAck > 0) {
      const timeoutMs = config.redisWaitTimeoutMs;
      const conn = redis.connect('publish-durable', { maxRetriesPerRequest: 1, commandTimeout: Math.max(5_000, timeoutMs + 2_000) });
      this.durable = { conn, replicas: config.redisMinReplicasAck, timeoutMs };
    }
  }

  /** Refuses to start with a partition count other than the one the log was created with (partitionCountCheck). */
  async onModuleInit(): Promise<void> {
    const { count, force } = this.config.eventLogPartitions;
    const key = this.redis.keys.eventLogPartitions();
    const client = this.redis.client;
    const recorded = await client.get(key);
    // A log created before partition counts were recorded has one partition: its stream has the unpartitioned name.
    const stored = recorded !== null ? Number(recorded) : (await client.exists(this.redis.keys.eventLog())) ? 1 : null;
    const check = partitionCountCheck(stored, count, force);
    if (check.action === 'refuse') throw new ConfigError(check.message);
    if (check.action === 'override') {
      this.logger.warn(check.message);
      await client.set(key, String(count));
    } else if (recorded === null) {
      await client.set(key, String(stored ?? count), 'NX');
    }
  }

  partitionOf(organizationId: string): number {
    return partitionOf(organizationId, this.partitions);
  }

  /** The hash tag of a partition: its stream, and the delivery queue and keys of its organizations. */
  partitionTag(partition: number): HashTag {
    return this.redis.keys.eventLogTag(partition, this.partitions);
  }

  /** The hash tag of the organization's partition: its log, and its delivery queue and delivery engine keys. */
  organizationTag(organizationId: string): HashTag {
    return this.partitionTag(this.partitionOf(organizationId));
  }

  /** The idempotency record of `key` (same hash tag as its partition's stream: the append script touches both). */
  idempotencyKey(organizationId: string, key: string): string {
    return this.redis.keys.idempotency(organizationId, key, this.organizationTag(organizationId));
  }

  /**
   * Appends a batch with one script call per partition it touches (append-events.lua, no MAXLEN: trimming belongs to
   * LogTrimmer, which never drops an entry a consumer group has not processed): idempotency check, append and
   * idempotency record are atomic, so a retried publish can never be appended twice and never lost half-way.
   */
  async append(items: LogAppend[]): Promise<AppendResult[]> {
    if (items.length === 0) return [];
    const byPartition = new Map<number, number[]>();
    for (let i = 0; i < items.length; i++) {
      const p = this.partitionOf(items[i].organizationId);
      const list = byPartition.get(p);
      if (list) list.push(i);
      else byPartition.set(p, [i]);
    }
    const results = new Array<AppendResult>(items.length);
    await Promise.all(
      [...byPartition].map(async ([partition, indexes]) => {
        const part = indexes.map((i) => items[i]);
        const stream = this.streamKeys[partition];
        const raw = this.durable
          ? await this.appendReplicated(stream, part)
          : await appendEvents(this.redis.client, stream, IDEMPOTENCY_TTL_SECONDS, part);
        raw.forEach((r, j) => (results[indexes[j]] = toResult(r, part[j], partition)));
      }),
    );
    return results;
  }

  /**
   * The append, then WAIT on the master holding the partition: answers only once enough replicas have it. Fewer
   * within the timeout: 503 replication_timeout (the events are on the master and may survive or be lost in a
   * failover; the idempotency key makes a retry safe either way).
   */
  private async appendReplicated(stream: string, items: LogAppend[]): Promise<string[]> {
    const { conn, replicas, timeoutMs } = this.durable!;
    const res = await appendEventsReplicated(conn, stream, IDEMPOTENCY_TTL_SECONDS, items, replicas, timeoutMs);
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

  /**
   * One organization's entries strictly after `afterStreamId` in its partition, from the next `count` entries of that
   * partition, oldest first. Other organizations' entries are skipped by their `o` field without parsing their data
   * (a resume reads a shared stream). `scanned` is how many entries were read and `last` the last stream id read (the
   * next cursor).
   */
  async readAfterFor(
    organizationId: string,
    afterStreamId: string,
    count: number,
  ): Promise<{ events: LoggedEvent[]; scanned: number; last: string | null }> {
    const partition = this.partitionOf(organizationId);
    const rows = await this.redis.client.xrange(this.streamKeys[partition], `(${afterStreamId}`, '+', 'COUNT', count);
    const events: LoggedEvent[] = [];
    for (const [sid, fields] of rows) {
      if (entryOrganization(fields) === organizationId) events.push(parseEntry(sid, fields, partition));
    }
    return { events, scanned: rows.length, last: rows.length ? rows[rows.length - 1][0] : null };
  }

  /** The oldest stream id a partition still retains, or null when it is empty. */
  async oldestStreamId(partition: number): Promise<string | null> {
    const rows = await this.redis.client.xrange(this.streamKeys[partition], '-', '+', 'COUNT', 1);
    return rows.length ? rows[0][0] : null;
  }

  /** The last stream id of a partition ('0-0' when it is empty). */
  async lastStreamId(partition: number): Promise<string> {
    const rows = await this.redis.client.xrevrange(this.streamKeys[partition], '+', '-', 'COUNT', 1);
    return rows.length ? rows[0][0] : '0-0';
  }
}

function toResult(reply: string, item: LogAppend, partition: number): AppendResult {
  if (reply[0] !== '1') {
    const streamId = reply.slice(1);
    const event: LoggedEvent = {
      id: eventIdFromStreamId(streamId, partition),
      streamId,
      type: item.type,
      organizationId: item.organizationId,
      timestamp: item.timestamp,
      data: item.data,
    };
    if (item.traceparent) event.traceparent = item.traceparent;
    return { duplicate: false, event };
  }
  const [sid, org, type, ts, ...data] = reply.slice(1).split('\n');
  return { duplicate: true, event: toLogged(sid, partition, org, type, ts, data.join('\n')) };
}

function toLogged(
  streamId: string,
  partition: number,
  organizationId: string,
  type: string,
  timestamp: string,
  dataJson: string,
  traceparent?: string,
): LoggedEvent {
  const event: LoggedEvent = {
    id: eventIdFromStreamId(streamId, partition),
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

/** Turns an XREAD/XRANGE entry (flat field list) of partition `partition` into an event. */
export function parseEntry(streamId: string, fields: string[], partition: number): LoggedEvent {
  const f: Record<string, string> = {};
  for (let i = 0; i < fields.length; i += 2) f[fields[i]] = fields[i + 1];
  return toLogged(streamId, partition, f.o, f.t, f.ts, f.d, f.tp);
}
