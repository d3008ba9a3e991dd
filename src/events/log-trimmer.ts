import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { compareStreamIds } from '../common/stream-ids.js';
import { RedisService } from '../redis/redis.service.js';
import { EventLog } from './event-log.js';

const TRIM_EVERY_MS = 1_000;

/**
 * Keeps each partition's Redis Stream bounded without ever losing an event: it trims (XTRIM MINID) only below the oldest entry some
 * consumer group still has to process (its oldest pending entry, else its last delivered one). Processed entries stay
 * for EVENT_LOG_RETENTION_MINUTES (fast stream resume), or go right away when the log holds more than EVENT_LOG_MAXLEN;
 * what is trimmed is already in SQL history (the `history` group processed it), where resume and replay find it.
 */
@Injectable()
export class LogTrimmer implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('LogTrimmer');
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly redis: RedisService,
    private readonly log: EventLog,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => {
      this.trim().catch((err: Error) => this.logger.warn(`trim failed: ${err.message}`));
    }, TRIM_EVERY_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** The lowest stream id of a partition that some consumer group has not finished with, or null when there is no group. */
  async safePoint(partition: number): Promise<string | null> {
    const client = this.redis.client;
    const stream = this.log.streamKeys[partition];
    const groups = (await client.call('XINFO', 'GROUPS', stream).catch(() => [])) as (string | number)[][];
    let safe: string | null = null;
    for (const flat of groups) {
      const g: Record<string, string | number> = {};
      for (let i = 0; i < flat.length; i += 2) g[String(flat[i])] = flat[i + 1];
      let point = String(g['last-delivered-id']);
      if (Number(g.pending) > 0) {
        const [, oldestPending] = (await client.call('XPENDING', stream, String(g.name))) as [number, string | null];
        if (oldestPending) point = oldestPending;
      }
      if (safe === null || compareStreamIds(point, safe) < 0) safe = point;
    }
    return safe;
  }

  /** One trimming pass over every partition (EVENT_LOG_MAXLEN applies to each); returns how many entries were removed. */
  async trim(): Promise<number> {
    let removed = 0;
    for (let p = 0; p < this.log.partitions; p++) removed += await this.trimPartition(p);
    return removed;
  }

  private async trimPartition(partition: number): Promise<number> {
    const safe = await this.safePoint(partition);
    if (safe === null || safe === '0-0') return 0;
    const stream = this.log.streamKeys[partition];
    const len = await this.redis.client.xlen(stream);
    const retentionBound = `${Date.now() - this.config.eventLogRetentionMinutes * 60_000}-0`;
    const minId = len > this.config.eventLogMaxLen || compareStreamIds(safe, retentionBound) < 0 ? safe : retentionBound;
    return this.redis.client.xtrim(stream, 'MINID', minId);
  }
}
