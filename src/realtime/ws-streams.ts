import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { z } from 'zod';
import { AuthService } from '../auth/auth.service.js';
import { credentialFrom } from '../auth/credentials.js';
import type { Principal } from '../auth/principal.js';
import { ApiError } from '../common/api-error.js';
import { toErrorResponse } from '../common/http-exception.filter.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { ConnectionLimiter } from './connection-limiter.js';
import { EventFanout } from './event-fanout.js';
import type { FanoutEvent } from './fanout-event.js';
import { LogReplay } from './log-replay.js';
import { OpenStreams } from './open-streams.js';
import { commandError, StreamCommands, type CommandError } from './stream-commands.js';
import { StreamConnection, type DisconnectNotice } from './stream-connection.js';
import { EventTypeDirectory } from '../events/event-type-directory.js';
import { assertKnownTypes, parseStreamQuery, type StreamRequest } from './stream-filter.js';

export const WS_PATH = '/api/v1/ws';
export const WS_MAX_FRAME_BYTES = 64 * 1024;
/** Close codes: 1001 going away, 1011 server error, application range: 4008 slow consumer, 4001 key revoked. */
const CLOSE_CODES: Record<DisconnectNotice['code'], number> = {
  shutting_down: 1001,
  resume_failed: 1011,
  resume_busy: 1013,
  slow_consumer: 4008,
  key_revoked: 4001,
};

/** Server → client frames (contract section 6). */
export type ServerMessage =
  | { type: 'ack' | 'pong'; requestId?: string; payload: Record<string, unknown> }
  | { type: 'error'; requestId?: string; payload: CommandError };

const clientMessageSchema = z.object({
  type: z.string().min(1).max(64),
  requestId: z.string().max(128).optional(),
  payload: z.unknown().optional(),
});

class WsConnection extends StreamConnection {
  /** Answered the last protocol ping. */
  alive = true;

  constructor(
    principal: Principal,
    readonly ws: WebSocket,
    private readonly socket: Socket,
    bufferBytes: number,
  ) {
    super('ws', principal, bufferBytes);
  }

  protected write(ev: FanoutEvent): void {
    this.ws.send(ev.wsMessage, { binary: false });
  }

  queuedBytes(): number {
    return this.ws.bufferedAmount;
  }

  protected waitDrain(): Promise<void> {
    return this.once(this.socket, 'drain');
  }

  protected override cork(): void {
    this.socket.cork();
  }

  protected override uncork(): void {
    this.socket.uncork();
  }

  reply(msg: ServerMessage): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }

  /** Close frame with the code and a reason naming the resume point; terminated if the peer does not close in time. */
  protected disconnect({ code, message, lastEventId }: DisconnectNotice): void {
    // an `error` message first (close reasons are easy to miss in browsers), except to a client whose buffer is full
    if (code !== 'slow_consumer') this.reply({ type: 'error', payload: { code, message } });
    this.ws.close(CLOSE_CODES[code], lastEventId ? `${code} lastEventId=${lastEventId}` : code);
    this.destroyIfStalled(() => this.ws.terminate());
  }
}

/** `?a=1&a=2` → `{a: ['1','2']}` like Express's query parser. */
function queryObject(params: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const key of new Set(params.keys())) {
    const all = params.getAll(key);
    out[key] = all.length === 1 ? all[0] : all;
  }
  return out;
}

/** A refused upgrade gets a plain HTTP response with the contract's JSON error body. */
function refuseUpgrade(socket: Socket, err: unknown): void {
  const { status, body, headers } = toErrorResponse(err);
  const json = JSON.stringify(body);
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\n${extra}Connection: close\r\n\r\n${json}`,
  );
}

/**
 * The raw WebSocket endpoint (`ws`, sharing the Nest HTTP server; Socket.IO owns `/socket.io/`): JSON frames
 * `subscribe | unsubscribe | ping | chat` → `event | ack | error | pong`, protocol pings every HEARTBEAT_INTERVAL_MS.
 */
@Injectable()
export class WsStreams implements OnApplicationBootstrap, OnModuleDestroy, BeforeApplicationShutdown {
  private readonly wss = new WebSocketServer({
    noServer: true,
    maxPayload: WS_MAX_FRAME_BYTES,
    perMessageDeflate: false,
    clientTracking: false,
  });
  private readonly connections = new Set<WsConnection>();
  private server?: Server;
  private timer?: NodeJS.Timeout;
  private readonly onUpgrade = (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === WS_PATH) void this.upgrade(req, url, socket, head);
  };

  constructor(
    private readonly host: HttpAdapterHost,
    private readonly auth: AuthService,
    private readonly fanout: EventFanout,
    private readonly replay: LogReplay,
    private readonly limiter: ConnectionLimiter,
    private readonly commands: StreamCommands,
    private readonly openStreams: OpenStreams,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly eventTypes: EventTypeDirectory,
  ) {}

  onApplicationBootstrap(): void {
    this.server = this.host.httpAdapter.getHttpServer() as Server;
    this.server.on('upgrade', this.onUpgrade);
    this.timer = setInterval(() => this.heartbeat(), this.config.heartbeatIntervalMs);
    this.timer.unref();
  }

  beforeApplicationShutdown(): void {
    this.server?.off('upgrade', this.onUpgrade);
    for (const conn of this.connections) conn.cut('shutting_down');
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** Auth, scope, query and connection limit: any refusal is answered as HTTP before the upgrade. */
  private async admit(req: IncomingMessage, url: URL): Promise<{ principal: Principal; request: StreamRequest; release: () => void }> {
    const principal = await this.auth.authenticate(credentialFrom(req, true));
    if (!principal) throw ApiError.unauthorized();
    if (!principal.scopes.has('streams:read')) throw ApiError.forbidden('This API key lacks the "streams:read" scope');
    const request = parseStreamQuery(queryObject(url.searchParams), principal);
    await assertKnownTypes(this.eventTypes, principal.organizationId, request.filter.types, 'events');
    if (request.afterStreamId) await this.replay.assertKnown(principal.organizationId, request.afterStreamId);
    return { principal, request, release: await this.limiter.acquire(principal.organizationId, 'ws') };
  }

  private async upgrade(req: IncomingMessage, url: URL, socket: Socket, head: Buffer): Promise<void> {
    socket.on('error', () => undefined);
    let admitted: Awaited<ReturnType<WsStreams['admit']>>;
    try {
      admitted = await this.admit(req, url);
    } catch (err) {
      return refuseUpgrade(socket, err);
    }
    const { principal, request, release } = admitted;
    socket.once('close', release);
    if (socket.destroyed) return release();
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const conn = new WsConnection(principal, ws, socket, this.config.streamBufferBytes);
      this.connections.add(conn);
      this.openStreams.add(conn);
      ws.on('error', () => undefined);
      ws.on('pong', () => (conn.alive = true));
      ws.on('message', (data) => void this.onMessage(conn, data));
      ws.once('close', () => {
        conn.markClosed();
        this.connections.delete(conn);
        this.openStreams.delete(conn);
        this.fanout.forget(conn);
      });
      conn.defaults = request.filter;
      conn.implicit = conn.newSubscription(request.filter);
      void this.fanout.start(conn, [conn.implicit], request.afterStreamId);
    });
  }

  private async onMessage(conn: WsConnection, data: RawData): Promise<void> {
    let msg: unknown;
    try {
      msg = JSON.parse(data.toString());
    } catch {
      return conn.reply({ type: 'error', payload: { code: 'malformed_json', message: 'The frame is not valid JSON' } });
    }
    const parsed = clientMessageSchema.safeParse(msg);
    if (!parsed.success) {
      const requestId =
        typeof (msg as { requestId?: unknown })?.requestId === 'string' ? (msg as { requestId: string }).requestId : undefined;
      return conn.reply({
        type: 'error',
        requestId,
        payload: {
          code: 'invalid_message',
          message: 'Expected {"type": "subscribe"|"unsubscribe"|"ping"|"chat", "requestId": string, "payload": {…}}',
        },
      });
    }
    const { type, requestId, payload } = parsed.data;
    try {
      switch (type) {
        case 'ping':
          return conn.reply({ type: 'pong', requestId, payload: { timestamp: new Date().toISOString() } });
        case 'subscribe':
          return await this.commands.subscribe(conn, payload, (ack) => conn.reply({ type: 'ack', requestId, payload: ack }));
        case 'unsubscribe':
          return conn.reply({ type: 'ack', requestId, payload: this.commands.unsubscribe(conn, payload) });
        case 'chat':
          return conn.reply({ type: 'ack', requestId, payload: await this.commands.chat(conn, payload) });
        default:
          throw new ApiError(400, 'unknown_message_type', `Unknown message type "${type}"; expected subscribe, unsubscribe, ping or chat`);
      }
    } catch (err) {
      conn.reply({ type: 'error', requestId, payload: commandError(err) });
    }
  }

  /** Terminates peers that did not answer the previous ping, pings the others. */
  private heartbeat(): void {
    for (const conn of this.connections) {
      if (!conn.alive) {
        conn.ws.terminate();
        continue;
      }
      conn.alive = false;
      conn.ws.ping();
    }
  }
}
