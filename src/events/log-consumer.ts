import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { RedisClient } from '../redis/redis.service.js';
import type { LoggedEvent } from './envelope.js';
import { parseEntry } from './event-log.js';

export interface LogConsumerOptions {
  /** Consumer group name (one per kind of reader: history, webhooks). */
  group: string;
  /** Max entries per handler call. */
  batchSize?: number;
  blockMs?: number;
  /** Entries pending longer than this on a dead consumer are claimed by a live one. */
  claimIdleMs?: number;
  /** `redelivered`: the batch was read from this consumer's pending entries (handled before, or claimed from a dead one). */
  handle(events: LoggedEvent[], batch: { redelivered: boolean }): Promise<void>;
}

type StreamReply = [string, [string, string[]][]][] | null;

/**
 * At-least-once reader of the event log through a Redis consumer group: a batch is XACKed only after the handler
 * resolved, so a crash re-delivers it (to this consumer on restart, or to another through XAUTOCLAIM).
 * Handlers must therefore be idempotent.
 *
 * One loop per partition, each on a connection of its own (`connect(partition)`): partitions live in different
 * slots on a cluster, so one XREADGROUP cannot cover them; a handler call gets events of one partition, in log order.
 */
export class LogConsumer {
  private readonly logger: Logger;
  private readonly consumer = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private running = false;
  private readonly loops: Promise<void>[] = [];
  private readonly conns: RedisClient[] = [];
  /** Events whose handler call completed (for lag/health reporting). */
  processed = 0;
  lastError: string | null = null;

  constructor(
    private readonly connect: (partition: number) => RedisClient,
    private readonly streams: readonly string[],
    private readonly opts: LogConsumerOptions,
  ) {
    this.logger = new Logger(`LogConsumer:${opts.group}`);
  }

  static async ensureGroup(conn: RedisClient, stream: string, group: string): Promise<void> {
    try {
      await conn.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
    } catch (err) {
      if (!String((err as Error).message).includes('BUSYGROUP')) throw err;
    }
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.streams.forEach((stream, partition) => {
      const conn = this.connect(partition);
      this.conns.push(conn);
      this.loops.push(this.run(conn, stream, partition));
    });
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const conn of this.conns) conn.disconnect();
    await Promise.all(this.loops.map((l) => l.catch(() => undefined)));
  }

  private async run(conn: RedisClient, stream: string, partition: number): Promise<void> {
    const { group, batchSize = 500, blockMs = 1000 } = this.opts;
    const claim = { last: 0 };
    let backlog = true; // our pending entries first: failed handler calls and entries claimed from dead consumers
    while (this.running) {
      try {
        await LogConsumer.ensureGroup(conn, stream, group);
        if ((await this.claimAbandoned(conn, stream, claim)) > 0) backlog = true;
        const block = backlog ? [] : ['BLOCK', blockMs];
        const reply = (await conn.call(
          'XREADGROUP',
          'GROUP',
          group,
          this.consumer,
          'COUNT',
          batchSize,
          ...block,
          'STREAMS',
          stream,
          backlog ? '0' : '>',
        )) as StreamReply;
        const entries = reply?.[0]?.[1] ?? [];
        if (backlog && entries.length === 0) {
          backlog = false;
          continue;
        }
        if (entries.length === 0) continue;
        const events = entries.filter(([, f]) => f && f.length).map(([sid, f]) => parseEntry(sid, f, partition));
        if (events.length) await this.opts.handle(events, { redelivered: backlog });
        // Not awaited: the next read follows it on the same connection (one round trip per batch, not two). Should it
        // fail, the entries stay pending and are handled again (after a failed read, or claimed once idle).
        conn
          .xack(stream, group, ...entries.map(([sid]) => sid))
          .catch((err: Error) => this.logger.warn(`XACK on ${stream} failed: ${err.message}`));
        this.processed += events.length;
        this.lastError = null;
      } catch (err) {
        if (!this.running) break;
        this.lastError = (err as Error).message;
        this.logger.warn(`read/handle failed on ${stream}, retrying: ${this.lastError}`);
        backlog = true;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /** Moves entries stuck on consumers that died into our pending list; they are processed on the next backlog pass. */
  private async claimAbandoned(conn: RedisClient, stream: string, claim: { last: number }): Promise<number> {
    const idle = this.opts.claimIdleMs ?? 30_000;
    if (Date.now() - claim.last < idle / 2) return 0;
    claim.last = Date.now();
    const [, claimed] = (await conn.call('XAUTOCLAIM', stream, this.opts.group, this.consumer, idle, '0-0', 'COUNT', 1000, 'JUSTID')) as [
      string,
      string[],
    ];
    if (claimed.length) this.logger.log(`claimed ${claimed.length} entries of ${stream} abandoned by a dead consumer`);
    return claimed.length;
  }
}
