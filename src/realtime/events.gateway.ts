import { Inject } from '@nestjs/common';
import {
  Ack,
  ConnectedSocket,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  WebSocketServer,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  type OnGatewayInit,
} from '@nestjs/websockets';
import type { Namespace, Socket } from 'socket.io';
import { AuthService } from '../auth/auth.service.js';
import { credentialFrom } from '../auth/credentials.js';
import type { Principal } from '../auth/principal.js';
import { ApiError } from '../common/api-error.js';
import { toErrorResponse } from '../common/http-exception.filter.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { ConnectionLimiter } from './connection-limiter.js';
import { EventFanout } from './event-fanout.js';
import type { FanoutEvent } from './fanout-event.js';
import { OpenStreams } from './open-streams.js';
import type { RecoveredData } from './socketio-adapter.js';
import { commandError, StreamCommands, type CommandError } from './stream-commands.js';
import { StreamConnection, type DisconnectNotice } from './stream-connection.js';
import type { StreamFilter } from './stream-filter.js';

export const SOCKETIO_NAMESPACE = '/events';

/** `socket.data`: persisted with the session so a recovered socket gets its subscriptions back. */
interface SocketSession extends RecoveredData {
  organizationId: string;
  subscriptions: { id: string; filter: StreamFilter }[];
}

type AckFn = ((response: unknown) => void) | undefined;

export const organizationRoom = (organizationId: string) => `org:${organizationId}`;

/**
 * Emits events to local sockets only (each instance tails the log itself, so nothing goes through the adapter),
 * one broadcast per event so Socket.IO encodes it once for all its recipients. The stream id travels as the last
 * argument: Socket.IO clients keep it as their recovery offset.
 */
class LocalEmitter {
  private pending: { ev: FanoutEvent; ids: string[] }[] = [];

  constructor(private readonly nsp: Namespace) {}

  emit(socketId: string, ev: FanoutEvent): void {
    const last = this.pending[this.pending.length - 1];
    if (last?.ev === ev) return void last.ids.push(socketId);
    if (this.pending.length === 0) queueMicrotask(this.flush);
    this.pending.push({ ev, ids: [socketId] });
  }

  notice(socketId: string, notice: DisconnectNotice): void {
    this.flush();
    this.nsp.local.to(socketId).emit('error', notice);
  }

  private readonly flush = () => {
    const batch = this.pending;
    this.pending = [];
    for (const { ev, ids } of batch) this.nsp.local.to(ids).emit(ev.event.type, ev.envelope, ev.streamId);
  };
}

class SocketIoConnection extends StreamConnection {
  /** Bytes emitted since the engine last flushed its buffer to the transport. */
  private queued = 0;
  private readonly onDrain = () => (this.queued = 0);

  constructor(
    principal: Principal,
    private readonly socket: Socket,
    private readonly emitter: LocalEmitter,
    bufferBytes: number,
  ) {
    super('socketio', principal, bufferBytes);
    socket.conn.on('drain', this.onDrain);
  }

  protected write(ev: FanoutEvent): void {
    this.queued += ev.size;
    this.emitter.emit(this.socket.id, ev);
  }

  queuedBytes(): number {
    return this.queued;
  }

  protected waitDrain(): Promise<void> {
    return this.once(this.socket.conn, 'drain');
  }

  override subscriptionsChanged(): void {
    (this.socket.data as SocketSession).subscriptions = [...this.subscriptions.values()].map((s) => ({ id: s.id, filter: s.filter }));
  }

  /** The socket left (after markClosed: a cut connection keeps counting drains until then). */
  dispose(): void {
    this.socket.conn.off('drain', this.onDrain);
  }

  /**
   * An `error` event, then the transport is closed ("forced close"): the session is kept, so the client's automatic
   * reconnection recovers its subscriptions and resumes from its last event. Shutdown is io.close()'s job.
   */
  protected disconnect(notice: DisconnectNotice): void {
    if (notice.code === 'shutting_down') return;
    this.emitter.notice(this.socket.id, notice);
    // a revoked key must not come back through session recovery: a server-side disconnect, no automatic reconnection
    if (notice.code === 'key_revoked') return void this.socket.disconnect(true);
    this.socket.conn.close();
    this.destroyIfStalled(() => this.socket.conn.close(true));
  }
}

/** A middleware refusal as the client sees it in `connect_error`: `err.message`, `err.data = {code, status}`. */
function connectError(err: unknown): Error & { data: { code: string; status: number } } {
  const { status, body } = toErrorResponse(err);
  return Object.assign(new Error(body.error.message), { data: { code: body.error.code, status } });
}

/**
 * Socket.IO namespace `/events`: `auth: { token }`, `emit('subscribe', payload, ack)` → `{subscriptionId}` or
 * `{error}`, `unsubscribe` and `chat` likewise; events arrive as `socket.on('<type>', envelope => …)`.
 */
@WebSocketGateway({ namespace: SOCKETIO_NAMESPACE })
export class EventsGateway implements OnGatewayInit<Namespace>, OnGatewayConnection<Socket>, OnGatewayDisconnect<Socket> {
  /** The namespace; every socket is in its organization's room (organizationRoom), on every instance through the adapter. */
  @WebSocketServer() readonly namespace!: Namespace;
  private emitter!: LocalEmitter;
  private readonly principals = new WeakMap<Socket, Principal>();
  private readonly connections = new Map<string, SocketIoConnection>();

  constructor(
    private readonly auth: AuthService,
    private readonly fanout: EventFanout,
    private readonly limiter: ConnectionLimiter,
    private readonly commands: StreamCommands,
    private readonly openStreams: OpenStreams,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  afterInit(nsp: Namespace): void {
    this.emitter = new LocalEmitter(nsp);
    nsp.use((socket, next) => {
      this.admit(socket).then(
        () => next(),
        (err: unknown) => next(connectError(err)),
      );
    });
  }

  /** Auth (`auth.token`, else an `Authorization: Bearer` header), scope and the organization's connection limit. */
  private async admit(socket: Socket): Promise<void> {
    const token: unknown = socket.handshake.auth?.token;
    const principal = await this.auth.authenticate(typeof token === 'string' ? token : credentialFrom(socket.request, false));
    if (!principal) throw ApiError.unauthorized('Missing or invalid API key (pass it as auth: { token })');
    if (!principal.scopes.has('streams:read')) throw ApiError.forbidden('This API key lacks the "streams:read" scope');
    const release = await this.limiter.acquire(principal.organizationId, 'socketio');
    // whichever comes first: the socket leaves, or the connection drops before it ever joined
    socket.once('disconnect', release);
    socket.conn.once('close', release);
    this.principals.set(socket, principal);
  }

  handleConnection(socket: Socket): void {
    const principal = this.principals.get(socket);
    const restored = socket.data as Partial<SocketSession>;
    if (!principal || (socket.recovered && restored.organizationId !== principal.organizationId)) {
      socket.disconnect(true);
      return;
    }
    const conn = new SocketIoConnection(principal, socket, this.emitter, this.config.streamBufferBytes);
    this.connections.set(socket.id, conn);
    this.openStreams.add(conn);
    socket.data = { organizationId: principal.organizationId, subscriptions: [] } satisfies SocketSession;
    void socket.join(organizationRoom(principal.organizationId));
    if (socket.recovered && restored.resumeFrom && restored.subscriptions?.length) {
      const subs = restored.subscriptions.map((s) => conn.newSubscription(s.filter, s.id));
      conn.subscriptionsChanged();
      void this.fanout.start(conn, subs, restored.resumeFrom);
    }
  }

  handleDisconnect(socket: Socket): void {
    const conn = this.connections.get(socket.id);
    if (!conn) return;
    this.connections.delete(socket.id);
    this.openStreams.delete(conn);
    conn.markClosed();
    conn.dispose();
    this.fanout.forget(conn);
  }

  @SubscribeMessage('subscribe')
  async subscribe(@ConnectedSocket() socket: Socket, @MessageBody() payload: unknown, @Ack() ack: AckFn): Promise<void> {
    await this.run(socket, ack, (conn) => this.commands.subscribe(conn, payload, (res) => ack?.(res)));
  }

  @SubscribeMessage('unsubscribe')
  async unsubscribe(@ConnectedSocket() socket: Socket, @MessageBody() payload: unknown, @Ack() ack: AckFn): Promise<void> {
    await this.run(socket, ack, async (conn) => ack?.(this.commands.unsubscribe(conn, payload)));
  }

  @SubscribeMessage('chat')
  async chat(@ConnectedSocket() socket: Socket, @MessageBody() payload: unknown, @Ack() ack: AckFn): Promise<void> {
    await this.run(socket, ack, async (conn) => ack?.(await this.commands.chat(conn, payload)));
  }

  /** Runs a command; a failure is acknowledged as `{error: {code, message, details?}}`. */
  private async run(socket: Socket, ack: AckFn, command: (conn: SocketIoConnection) => Promise<void>): Promise<void> {
    const conn = this.connections.get(socket.id);
    try {
      if (!conn) throw new ApiError(409, 'not_connected', 'The socket is not connected');
      await command(conn);
    } catch (err) {
      ack?.({ error: commandError(err) } satisfies { error: CommandError });
    }
  }
}
