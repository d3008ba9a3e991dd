import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { RedisKeys } from './keys.js';

/**
 * A connection to the deployment's Redis: one server (`Redis`) or a Redis Cluster (`Cluster`, REDIS_CLUSTER_NODES or
 * `REDIS_URL=…?cluster=true`). Code that only sends commands types its connection with this alias; both route every
 * command (a Cluster by the slot of its keys, which is why the keys of one multi-key command or script share a hash tag).
 */
export type RedisClient = Redis | Cluster;

/**
 * One shared command connection plus factories for connections that block (XREAD BLOCK, SUBSCRIBE, BullMQ workers).
 * Every key is built by `keys` (RedisKeys, under REDIS_PREFIX) so deployments and test runs sharing a Redis never collide.
 */
@Injectable()
export class RedisService implements OnApplicationShutdown {
  readonly client: RedisClient;
  /** Every key, key prefix and channel name of this deployment. */
  readonly keys: RedisKeys;
  private readonly extra = new Set<RedisClient>();

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.keys = new RedisKeys(config.redisPrefix);
    // Fails fast while Redis is down so the API can answer 503 instead of hanging.
    this.client = this.connect('cmd', { maxRetriesPerRequest: 1, commandTimeout: 5_000 });
  }

  /** True when the deployment runs on a Redis Cluster. */
  get isCluster(): boolean {
    return this.config.redisCluster !== undefined;
  }

  /** Options of one server connection (on a cluster: of each node connection). */
  connectionOptions(extra: RedisOptions = {}): RedisOptions {
    const url = new URL(this.config.redisUrl ?? 'redis://127.0.0.1:6379');
    return {
      host: url.hostname,
      port: Number(url.port || 6379),
      username: url.username || undefined,
      password: url.password ? decodeURIComponent(url.password) : undefined,
      db: this.isCluster || url.pathname.length <= 1 ? 0 : Number(url.pathname.slice(1)),
      tls: url.protocol === 'rediss:' ? {} : undefined,
      maxRetriesPerRequest: null,
      enableReadyCheck: true,
      ...extra,
    };
  }

  /**
   * What BullMQ gets as `connection`: plain options on one server (BullMQ opens its own connections), a dedicated
   * Cluster instance on a cluster (BullMQ duplicates it for its blocking connections).
   */
  bullConnection(name: string): RedisOptions | Cluster {
    return this.isCluster ? (this.connect(name) as Cluster) : this.connectionOptions({ connectionName: `humana:${name}` });
  }

  /** A dedicated connection (closed with the app): a new server connection, or a new Cluster client (with `cluster` options). */
  connect(name: string, extra: RedisOptions = {}, cluster: Partial<ClusterOptions> = {}): RedisClient {
    const conn = this.config.redisCluster
      ? this.newCluster(name, extra, cluster)
      : new Redis({ connectionName: `humana:${name}`, ...this.connectionOptions(extra) });
    conn.on('error', () => undefined); // reconnects on its own; health checks report outages
    this.extra.add(conn);
    return conn;
  }

  private newCluster(name: string, extra: RedisOptions, cluster: Partial<ClusterOptions>): Cluster {
    const { host: _h, port: _p, db: _d, maxRetriesPerRequest, ...node } = this.connectionOptions(extra);
    const options: ClusterOptions = {
      redisOptions: { ...node, connectionName: `humana:${name}` },
      // A failover moves slots: follow MOVED/ASK, and retry commands while the cluster is electing a new master.
      maxRedirections: 16,
      retryDelayOnFailover: 200,
      retryDelayOnClusterDown: 300,
      retryDelayOnTryAgain: 100,
      slotsRefreshTimeout: 2_000,
      enableReadyCheck: true,
      scaleReads: 'master',
      ...cluster,
    };
    // Cluster reads maxRetriesPerRequest from redisOptions; null (the default for blocking connections) means "retry forever".
    options.redisOptions!.maxRetriesPerRequest = maxRetriesPerRequest;
    return new Cluster(this.config.redisCluster!, options);
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([...this.extra].map((c) => c.quit().catch(() => c.disconnect())));
  }
}
