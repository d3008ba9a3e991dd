import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Redis, type RedisOptions } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { RedisKeys } from './keys.js';

/**
 * One shared command connection plus factories for connections that block (XREAD BLOCK, SUBSCRIBE, BullMQ workers).
 * Every key is built by `keys` (RedisKeys, under REDIS_PREFIX) so deployments and test runs sharing a Redis never collide.
 */
@Injectable()
export class RedisService implements OnApplicationShutdown {
  readonly client: Redis;
  /** Every key, key prefix and channel name of this deployment. */
  readonly keys: RedisKeys;
  private readonly extra = new Set<Redis>();

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.keys = new RedisKeys(config.redisPrefix);
    // Fails fast while Redis is down so the API can answer 503 instead of hanging.
    this.client = this.connect('cmd', { maxRetriesPerRequest: 1, commandTimeout: 5_000 });
  }

  connectionOptions(extra: RedisOptions = {}): RedisOptions {
    const url = new URL(this.config.redisUrl ?? 'redis://127.0.0.1:6379');
    return {
      host: url.hostname,
      port: Number(url.port || 6379),
      username: url.username || undefined,
      password: url.password ? decodeURIComponent(url.password) : undefined,
      db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0,
      tls: url.protocol === 'rediss:' ? {} : undefined,
      maxRetriesPerRequest: null,
      enableReadyCheck: true,
      ...extra,
    };
  }

  /** A dedicated connection (closed with the app). */
  connect(name: string, extra: RedisOptions = {}): Redis {
    const conn = new Redis({ connectionName: `humana:${name}`, ...this.connectionOptions(extra) });
    conn.on('error', () => undefined); // reconnects on its own; health checks report outages
    this.extra.add(conn);
    return conn;
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([...this.extra].map((c) => c.quit().catch(() => c.disconnect())));
  }
}
