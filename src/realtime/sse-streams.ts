import type { IncomingMessage, ServerResponse } from 'node:http';
import { BeforeApplicationShutdown, Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { Principal } from '../auth/principal.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { ConnectionLimiter } from './connection-limiter.js';
import { EventFanout } from './event-fanout.js';
import type { FanoutEvent } from './fanout-event.js';
import { LogReplay } from './log-replay.js';
import { ResumeSlots, type ReleaseSlot } from './resume-slots.js';
import { OpenStreams } from './open-streams.js';
import { StreamConnection, type DisconnectNotice } from './stream-connection.js';
import type { StreamRequest } from './stream-filter.js';

/** Reconnection delay hint for EventSource clients (`retry:`). */
export const SSE_RETRY_MS = 2000;

const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  Connection: 'keep-alive',
  'X-Accel-Buffering': 'no',
};

class SseConnection extends StreamConnection {
  constructor(
    principal: Principal,
    private readonly res: ServerResponse,
    bufferBytes: number,
  ) {
    super('sse', principal, bufferBytes);
  }

  protected write(ev: FanoutEvent): void {
    this.res.write(ev.sseFrame);
  }

  queuedBytes(): number {
    return this.res.writableLength;
  }

  protected waitDrain(): Promise<void> {
    return this.once(this.res, 'drain');
  }

  protected override cork(): void {
    this.res.cork();
  }

  protected override uncork(): void {
    this.res.uncork();
  }

  heartbeat(frame: Buffer): void {
    if (this.closed) return;
    this.res.write(frame);
    if (this.queuedBytes() > this.bufferBytes) this.cut('slow_consumer');
  }

  /** A last `event: error` frame (no `id:`, so the client's Last-Event-ID stays its last real event), then the end. */
  protected disconnect(notice: DisconnectNotice): void {
    this.res.end(`event: error\ndata: ${JSON.stringify(notice)}\n\n`);
    this.destroyIfStalled(() => this.res.destroy());
  }
}

/** Server-Sent Events at `GET /api/v1/events/stream`: one subscription per connection, shared heartbeat timer. */
@Injectable()
export class SseStreams implements OnModuleInit, OnModuleDestroy, BeforeApplicationShutdown {
  private readonly connections = new Set<SseConnection>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly fanout: EventFanout,
    private readonly replay: LogReplay,
    private readonly limiter: ConnectionLimiter,
    private readonly openStreams: OpenStreams,
    private readonly slots: ResumeSlots,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => this.heartbeat(), this.config.heartbeatIntervalMs);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  beforeApplicationShutdown(): void {
    for (const conn of this.connections) conn.cut('shutting_down');
  }

  /** Validation, resume point and connection limit are checked first, so a refusal is still a JSON error. */
  async open(principal: Principal, req: IncomingMessage, res: ServerResponse, { filter, afterStreamId }: StreamRequest): Promise<void> {
    if (afterStreamId) await this.replay.assertKnown(principal.organizationId, afterStreamId);
    const release = await this.limiter.acquire(principal.organizationId, 'sse');
    let slot: ReleaseSlot | undefined;
    try {
      if (afterStreamId) slot = await this.slots.acquire(); // 503 resume_busy + Retry-After while still JSON
    } catch (err) {
      release();
      throw err;
    }
    if (req.socket.destroyed) return (slot?.(), release());
    const conn = new SseConnection(principal, res, this.config.streamBufferBytes);
    this.connections.add(conn);
    this.openStreams.add(conn);
    res.once('close', () => {
      conn.markClosed();
      this.connections.delete(conn);
      this.openStreams.delete(conn);
      this.fanout.forget(conn);
      release();
    });
    req.socket.setTimeout(0);
    req.socket.setNoDelay(true);
    req.socket.setKeepAlive(true);
    res.writeHead(200, SSE_HEADERS);
    res.write(`retry: ${SSE_RETRY_MS}\n: ok\n\n`);
    await this.fanout.start(conn, [conn.newSubscription(filter)], afterStreamId, slot);
  }

  private heartbeat(): void {
    if (this.connections.size === 0) return;
    const frame = Buffer.from(`event: heartbeat\ndata: {"timestamp":"${new Date().toISOString()}"}\n\n`);
    for (const conn of this.connections) conn.heartbeat(frame);
  }
}
