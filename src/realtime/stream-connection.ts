import type { EventEmitter } from 'node:events';
import type { Principal } from '../auth/principal.js';
import { newId } from '../common/ids.js';
import { compareStreamIds } from '../common/stream-ids.js';
import type { FanoutEvent } from './fanout-event.js';
import type { Transport } from './connection-counter.js';
import { MATCH_ALL, type StreamFilter } from './stream-filter.js';
import type { Subscriber, Subscription } from './subscription-index.js';

/** Why a connection is cut: sent to the client (SSE `event: error`, WS close reason, Socket.IO `error` event). */
export interface DisconnectNotice {
  code: 'slow_consumer' | 'resume_failed' | 'resume_busy' | 'shutting_down' | 'key_revoked';
  message: string;
  /** The last event this connection was sent: resume from here. */
  lastEventId: string | null;
}

export type StreamSubscription = Subscription<StreamConnection>;

/** How long a cut connection may go without draining any of its buffer before its socket is destroyed. */
const STALL_GRACE_MS = 5000;

/**
 * One client connection of any transport: its subscriptions, the bounded queue of what it has not yet received,
 * and the hold-while-replaying logic that makes resume gap- and duplicate-free. Transports implement the wire.
 */
export abstract class StreamConnection implements Subscriber {
  readonly id = newId('conn');
  lastDispatch = 0;
  /** Last event written to this connection (resume point it can be told). */
  lastEventId: string | null = null;
  readonly subscriptions = new Map<string, StreamSubscription>();
  /** Filters a `subscribe` falls back to for the fields it leaves out (the raw WebSocket's query). */
  defaults: StreamFilter = MATCH_ALL;
  /** The subscription the connection's query created, replaced by the first explicit `subscribe`. */
  implicit: StreamSubscription | null = null;
  closed = false;
  private held: FanoutEvent[] | null = null;
  private heldBytes = 0;
  private lastReplayed: string | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly closeWaiters = new Set<() => void>();
  private batching = false;
  private batchBytes = 0;

  constructor(
    readonly transport: Transport,
    readonly principal: Principal,
    protected readonly bufferBytes: number,
  ) {}

  get organizationId(): string {
    return this.principal.organizationId;
  }

  /** Writes one event to the wire (framing is the transport's). */
  protected abstract write(ev: FanoutEvent): void;
  /** Bytes accepted but not yet handed to the kernel. */
  abstract queuedBytes(): number;
  /** Resolves when the transport's queue drained (or the connection closed). */
  protected abstract waitDrain(): Promise<void>;
  /** Tells the client why (when the wire allows) and closes. */
  protected abstract disconnect(notice: DisconnectNotice): void;
  /** Hold writes in user space until uncork() so one syscall carries a whole dispatch batch (optional). */
  protected cork(): void {}
  protected uncork(): void {}

  newSubscription(filter: StreamFilter, id = newId('sub')): StreamSubscription {
    const sub: StreamSubscription = { id, filter, subscriber: this };
    this.subscriptions.set(id, sub);
    return sub;
  }

  /** Hook for transports that persist the subscription list (Socket.IO session recovery). */
  subscriptionsChanged(): void {}

  /** A live event from the fan-out (or a replayed one): queued while a replay is running, else written. */
  deliver(ev: FanoutEvent): void {
    if (this.closed) return;
    if (this.held) {
      this.heldBytes += ev.size;
      if (this.heldBytes > this.bufferBytes) this.cut('slow_consumer');
      else this.held.push(ev);
      return;
    }
    this.send(ev);
  }

  /** The fan-out delivers a batch of events between beginBatch() and endBatch(); the buffer bound is checked at the end. */
  beginBatch(): void {
    this.batching = true;
    this.batchBytes = 0;
    this.cork();
  }

  endBatch(): void {
    this.batching = false;
    this.uncork();
    this.checkBuffer();
  }

  /** Cuts the connection, telling the client its resume point. */
  cut(code: DisconnectNotice['code'], message = describe(code)): void {
    if (this.closed) return;
    const notice: DisconnectNotice = { code, message, lastEventId: this.lastEventId };
    this.markClosed();
    this.disconnect(notice);
  }

  /** Transports call this when the wire closed, whatever the cause. */
  markClosed(): void {
    this.closed = true;
    this.held = null;
    for (const wake of this.closeWaiters) wake();
    this.closeWaiters.clear();
  }

  /**
   * Replays `events` (already filtered) while live delivery is held back, then releases the held live events that
   * come after the last replayed one. `register` runs first, synchronously, and returns the newest id the live
   * path has already dispatched: everything after it reaches the hold queue, everything up to it must be replayed.
   * Replays on one connection run one at a time.
   */
  resume(afterStreamId: string, register: () => string, events: (upTo: string) => AsyncIterable<FanoutEvent[]>): Promise<void> {
    const run = this.chain.then(async () => {
      if (this.closed) return;
      this.held = [];
      this.heldBytes = 0;
      this.lastReplayed = afterStreamId;
      const upTo = register();
      try {
        for await (const page of events(upTo)) {
          for (const ev of page) {
            if (this.closed) return;
            this.send(ev);
            this.lastReplayed = ev.streamId;
            if (this.queuedBytes() > this.bufferBytes / 2) await this.waitDrain();
          }
        }
      } finally {
        this.release();
      }
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  private release(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const ev of held) {
      if (this.closed) return;
      if (compareStreamIds(ev.streamId, this.lastReplayed!) > 0) this.send(ev);
    }
  }

  private send(ev: FanoutEvent): void {
    this.write(ev);
    this.lastEventId = ev.id;
    if (this.batching) {
      // corked writes are not yet the kernel's: only check the bound once they are, and flush big batches early
      this.batchBytes += ev.size;
      if (this.batchBytes < this.bufferBytes / 2) return;
      this.uncork();
      this.cork();
      this.batchBytes = 0;
    }
    this.checkBuffer();
  }

  private checkBuffer(): void {
    if (!this.closed && this.queuedBytes() > this.bufferBytes) this.cut('slow_consumer');
  }

  /**
   * After a cut: a client still reading gets the rest of its buffer and the notice; one that made no progress
   * within a grace period is destroyed, so a stalled peer never holds its buffer for long.
   */
  protected destroyIfStalled(destroy: () => void): void {
    let last = this.queuedBytes();
    const timer = setInterval(() => {
      const now = this.queuedBytes();
      if (now > 0 && now >= last) destroy();
      if (now === 0 || now >= last) clearInterval(timer);
      last = now;
    }, STALL_GRACE_MS);
    timer.unref();
  }

  /** Resolves once `event` fires on `emitter` or the connection closes. */
  protected once(emitter: EventEmitter, event: string): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        emitter.off(event, done);
        this.closeWaiters.delete(done);
        resolve();
      };
      emitter.on(event, done);
      this.closeWaiters.add(done);
    });
  }
}

function describe(code: DisconnectNotice['code']): string {
  switch (code) {
    case 'slow_consumer':
      return 'The client did not read fast enough and its buffer is full; reconnect with the last event id to resume';
    case 'resume_failed':
      return 'Replaying missed events failed; reconnect with the last event id to retry';
    case 'resume_busy':
      return 'Too many streams are resuming on this server; reconnect with the same last event id in a few seconds';
    case 'shutting_down':
      return 'The server is shutting down; reconnect with the last event id to resume';
    case 'key_revoked':
      return 'The API key of this connection was revoked';
  }
}
