import type { Server as HttpServer } from 'node:http';
import type { HttpAdapterHost } from '@nestjs/core';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { Server, type Namespace, type ServerOptions } from 'socket.io';
import type { AppConfig } from '../config/config.js';
import type { RedisClient, RedisService } from '../redis/redis.service.js';

/** How long a disconnected Socket.IO client can come back to its session (subscriptions) and missed events. */
export const RECOVERY_WINDOW_MS = 2 * 60_000;
export const SOCKETIO_MAX_MESSAGE_BYTES = 64 * 1024;

/** What socket.io persists for a disconnected socket (socket.io-adapter's SessionToPersist / Session). */
interface PersistedSession {
  sid: string;
  pid: string;
  rooms: string[];
  data: unknown;
}
interface RestoredSession extends PersistedSession {
  missedPackets: unknown[][];
}
interface SessionStore {
  persistSession(session: PersistedSession): void;
  restoreSession(pid: string, offset: string): Promise<RestoredSession>;
}

/** Socket data restored with a recovered session: where the client's stream resumes (an event log stream id). */
export interface RecoveredData {
  resumeFrom?: string;
}

const STREAM_ID = /^\d{1,16}-\d{1,16}$/;
const SESSION_ID = /^[\w-]{1,64}$/;

/**
 * The Redis Streams adapter (rooms, broadcasts and fetchSockets across instances), with sessions kept in Redis as
 * JSON under our prefix. Our events never go through the adapter's stream (each instance tails the event log), so
 * the offset a client reconnects with is an event-log stream id: restoring hands it to the gateway, which replays
 * from the log instead of from the adapter.
 */
function streamsAdapter(redis: RedisService, client: RedisClient) {
  const create = createAdapter(client, {
    streamName: redis.keys.socketIo(),
    channelPrefix: redis.keys.socketIo(),
    blockTimeInMs: 1000,
    // On a cluster, classic SUBSCRIBE may land on any node (a replica among the seed nodes, say), where the adapter's
    // server count (NUMSUB over the masters) misses it, and fetchSockets then skips that instance. Sharded pub/sub
    // (Redis 7) subscribes on the channel's master: every instance is counted.
    useShardedPubSub: redis.isCluster,
  });
  const sessionKey = (pid: string) => redis.keys.socketIoSession(pid);
  // socket.io calls the factory with `new`: a function expression, not an arrow
  return function recoverableAdapter(nsp: Namespace) {
    const adapter = create(nsp);
    const store: SessionStore = {
      persistSession(session) {
        client.set(sessionKey(session.pid), JSON.stringify(session), 'PX', RECOVERY_WINDOW_MS).catch(() => undefined);
      },
      async restoreSession(pid, offset) {
        if (!SESSION_ID.test(pid) || !STREAM_ID.test(offset)) throw new Error('invalid session id or offset');
        const raw = await client.getdel(sessionKey(pid));
        if (!raw) throw new Error('session expired or unknown');
        const session = JSON.parse(raw) as PersistedSession;
        return { ...session, data: { ...(session.data as object), resumeFrom: offset } satisfies RecoveredData, missedPackets: [] };
      },
    };
    return Object.assign(adapter, store);
  };
}

/** Nest's IoAdapter is typed against its own nested copy of socket.io; the server we build is the app's copy. */
type NestIoServer = ReturnType<IoAdapter['createIOServer']>;

/**
 * Builds the Socket.IO server on the Nest HTTP server with the Redis adapter and connection-state recovery.
 * Installed by RealtimeModule through ApplicationConfig (no change to bootstrap needed).
 */
export class EventsIoAdapter extends IoAdapter {
  private io?: Server;
  private readonly clients: RedisClient[] = [];

  constructor(
    private readonly host: HttpAdapterHost,
    private readonly redis: RedisService,
    private readonly config: AppConfig,
  ) {
    super();
  }

  override createIOServer(_port: number, options?: object): NestIoServer {
    const client = this.redis.connect('socketio');
    // The adapter duplicates its client for its blocking reader and subscriber; those must close with the app too.
    // (On a cluster `connect` builds a new Cluster client, as the adapter's own duplicate() would.)
    (client as { duplicate: () => RedisClient }).duplicate = () => {
      const dup = this.redis.connect('socketio-reader', {}, { shardedSubscribers: true });
      this.clients.push(dup);
      return dup;
    };
    // The HTTP server exists only once the Nest application is built, after this adapter was created.
    this.io = new Server(this.host.httpAdapter.getHttpServer() as HttpServer, {
      ...(options as Partial<ServerOptions>),
      adapter: streamsAdapter(this.redis, client),
      connectionStateRecovery: { maxDisconnectionDuration: RECOVERY_WINDOW_MS, skipMiddlewares: false },
      pingInterval: this.config.heartbeatIntervalMs,
      maxHttpBufferSize: SOCKETIO_MAX_MESSAGE_BYTES,
      // our raw WebSocket upgrade handler authenticates before answering: give it time before engine.io drops the socket
      destroyUpgradeTimeout: 10_000,
    });
    return this.io as unknown as NestIoServer;
  }

  /** Disconnects every socket ("server shutting down": their sessions are kept for recovery) and stops the adapter. */
  override async dispose(): Promise<void> {
    const io = this.io;
    this.io = undefined;
    if (io) await io.close();
    for (const c of this.clients.splice(0)) c.disconnect();
  }
}
