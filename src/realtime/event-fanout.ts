import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { EventLog, parseEntry } from '../events/event-log.js';
import { RedisService, type RedisClient } from '../redis/redis.service.js';
import { FanoutEvent } from './fanout-event.js';
import { TailStatus } from './tail-status.js';
import { LogReplay } from './log-replay.js';
import { ResumeBusyError, ResumeSlots, type ReleaseSlot } from './resume-slots.js';
import type { StreamConnection, StreamSubscription } from './stream-connection.js';
import { filterMatches } from './stream-filter.js';
import { SubscriptionIndex } from './subscription-index.js';

type XReadReply = [string, [string, string[] | null][]][] | null;

const READ_COUNT = 1000;
const BLOCK_MS = 5000;

/**
 * The live path of every API process: one dedicated Redis connection per log partition tails it (XREAD BLOCK from the
 * last id seen) and hands each event to the local connections whose subscriptions match, through the subscription
 * index. Every process tails every partition, so an event published anywhere reaches subscribers everywhere.
 */
/** Longest stretch the tail delivers without yielding to the event loop. */
const DISPATCH_SLICE_MS = 5;

@Injectable()
export class EventFanout implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('EventFanout');
  private readonly index = new SubscriptionIndex<StreamConnection>();
  private readonly conns: RedisClient[] = [];
  private running = false;
  private loops: Promise<void>[] = [];
  /** Per partition, stream id of the last event dispatched: events after it are still to come through the tail. */
  private positions: string[] = [];
  /** Per partition, the error of its last tail read (null: it succeeded). */
  private readonly tailErrors: (string | null)[] = [];
  /** Events dispatched since start (metrics). */
  dispatched = 0;

  constructor(
    private readonly redis: RedisService,
    private readonly log: EventLog,
    private readonly replay: LogReplay,
    private readonly status: TailStatus,
    private readonly slots: ResumeSlots,
  ) {}

  async onModuleInit(): Promise<void> {
    this.positions = await Promise.all(this.log.streamKeys.map((_, p) => this.log.lastStreamId(p)));
    this.running = true;
    this.status.running = true;
    this.loops = this.log.streamKeys.map((_, p) => {
      const conn = this.redis.connect(`fanout:p${p}`);
      this.conns.push(conn);
      return this.run(conn, p);
    });
  }

  async onApplicationShutdown(): Promise<void> {
    this.running = false;
    this.status.running = false;
    for (const conn of this.conns) conn.disconnect();
    await Promise.all(this.loops);
  }

  get subscriptionCount(): number {
    return this.index.size;
  }

  /** Live delivery of subscriptions created by conn.newSubscription(). */
  attach(subs: readonly StreamSubscription[]): void {
    for (const sub of subs) this.index.add(sub);
  }

  detach(subs: Iterable<StreamSubscription>): void {
    for (const sub of subs) this.index.remove(sub);
  }

  /** Forgets every subscription of a closed connection. */
  forget(conn: StreamConnection): void {
    this.detach(conn.subscriptions.values());
    conn.subscriptions.clear();
  }

  /**
   * Starts live delivery of `subs`, first replaying what they missed since `afterStreamId` when one is given.
   * A failed replay cuts the connection (the client resumes) rather than leave a silent gap.
   */
  async start(
    conn: StreamConnection,
    subs: readonly StreamSubscription[],
    afterStreamId: string | null,
    slot?: ReleaseSlot,
  ): Promise<void> {
    if (afterStreamId === null) return this.attach(subs);
    // A resume runs under one of the process's MAX_CONCURRENT_RESUMES slots (SSE takes it before answering, to refuse
    // with a 503; the other transports here): one that cannot get one is cut with `resume_busy`.
    let release = slot;
    if (!release) {
      try {
        release = await this.slots.acquire();
      } catch (err) {
        if (!(err instanceof ResumeBusyError)) throw err;
        return conn.cut('resume_busy');
      }
    }
    try {
      await this.resume(conn, subs, afterStreamId).catch((err: Error) => {
        this.logger.warn(`replay for ${conn.transport} connection ${conn.id} failed: ${err.message}`);
        conn.cut('resume_failed');
      });
    } finally {
      release();
    }
  }

  /**
   * Attaches `subs` and sends what they missed since `afterStreamId` before any live event: the replay covers
   * everything the tail of the organization's partition dispatched up to the moment of attaching, the connection
   * holds back live events meanwhile.
   */
  private resume(conn: StreamConnection, subs: readonly StreamSubscription[], afterStreamId: string): Promise<void> {
    const matches = (ev: FanoutEvent) => subs.some((s) => filterMatches(s.filter, ev.event.type, ev.event.data));
    const replay = this.replay;
    const partition = this.log.partitionOf(conn.organizationId);
    return conn.resume(
      afterStreamId,
      () => {
        this.attach(subs);
        return this.positions[partition];
      },
      async function* (upTo) {
        for await (const page of replay.pages(conn.organizationId, afterStreamId, upTo)) yield page.filter(matches);
      },
    );
  }

  private async run(conn: RedisClient, partition: number): Promise<void> {
    while (this.running) {
      try {
        const reply = (await conn.xread(
          'COUNT',
          READ_COUNT,
          'BLOCK',
          BLOCK_MS,
          'STREAMS',
          this.log.streamKeys[partition],
          this.positions[partition],
        )) as XReadReply;
        this.noteTail(partition, null);
        const entries = reply?.[0]?.[1];
        if (entries?.length) await this.dispatch(entries, partition);
      } catch (err) {
        if (!this.running) break;
        const message = (err as Error).message;
        this.noteTail(partition, message);
        this.logger.warn(`tail read of partition ${partition} failed, retrying from ${this.positions[partition]}: ${message}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /** The tail is failing while any partition's read is. */
  private noteTail(partition: number, error: string | null): void {
    this.tailErrors[partition] = error;
    this.status.lastError = this.tailErrors.find((e) => e !== null) ?? null;
  }

  /**
   * Delivers a batch of log entries, yielding to the event loop every DISPATCH_SLICE_MS so that a large fan-out
   * (one event to thousands of connections) does not stall publishes and reads on this process. The position moves
   * to an event before its recipients are computed: a connection that attaches during a yield replays up to and
   * including that event and was not among its recipients, so it sees the event exactly once (see resume()).
   */
  private async dispatch(entries: [string, string[] | null][], partition: number): Promise<void> {
    const touched = new Set<StreamConnection>();
    const flush = () => {
      for (const c of touched) c.endBatch();
      touched.clear();
    };
    let sliceStart = performance.now();
    const recipients: StreamConnection[] = [];
    for (const [sid, fields] of entries) {
      this.positions[partition] = sid;
      if (!fields?.length) continue;
      const ev = new FanoutEvent(parseEntry(sid, fields, partition));
      recipients.length = 0;
      this.index.dispatch(ev.event.organizationId, ev.event.type, ev.event.data, (c) => recipients.push(c));
      for (const c of recipients) {
        if (!touched.has(c)) {
          touched.add(c);
          c.beginBatch();
        }
        c.deliver(ev);
        if (performance.now() - sliceStart >= DISPATCH_SLICE_MS) {
          flush();
          await new Promise<void>((resolve) => setImmediate(resolve));
          sliceStart = performance.now();
        }
      }
      this.dispatched++;
    }
    flush();
  }
}
