import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Redis, type RedisOptions } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '../config/config.js';

/**
 * One shared command connection plus factories for connections that block (XREAD BLOCK, SUBSCRIBE, BullMQ workers).
 * Every key goes through key() so deployments and test runs sharing a Redis never collide.
 */
@Injectable()
export class RedisService implements OnApplicationShutdown {
  readonly client: Redis;
  private readonly extra = new Set<Redis>();

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    // Fails fast while Redis is down so the API can answer 503 instead of hanging.
    this.client = this.connect('cmd', { maxRetriesPerRequest: 1, commandTimeout: 5_000 });
  }

  get prefix(): string {
    return this.config.redisPrefix;
  }

  /** `{prefix}:…`; the braces make every key of a deployment hash to one Redis Cluster slot (Lua scripts touch several). */
  key(...parts: string[]): string {
    return [`{${this.config.redisPrefix}}`, ...parts].join(':');
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

  /** Waits until the shared connection is ready (start-up ordering). */
  async ready(timeoutMs = 10_000): Promise<void> {
    if (this.client.status === 'ready') return;
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`Redis not ready after ${timeoutMs} ms`)), timeoutMs);
      this.client.once('ready', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([...this.extra].map((c) => c.quit().catch(() => c.disconnect())));
  }
}
