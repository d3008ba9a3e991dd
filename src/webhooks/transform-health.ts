import { Injectable } from '@nestjs/common';
import { RedisService } from '../redis/redis.service.js';

export interface TransformHealthView {
  consecutiveFailures: number;
  lastError: string | null;
  lastFailureAt: string | null;
}

/** A success re-writes the counter at most this often per webhook and process (a hash write per delivery is waste). */
const RESET_EVERY_MS = 10_000;

/**
 * Consecutive transform failures per webhook, in Redis so every worker adds to one count and the API can show it.
 * A success resets the count (lastError and lastFailureAt stay as history).
 */
@Injectable()
export class TransformHealth {
  private readonly resetAt = new Map<string, number>();

  constructor(private readonly redis: RedisService) {}

  private key(webhookId: string): string {
    return this.redis.keys.webhookTransformHealth(webhookId);
  }

  async failed(webhookId: string, error: string): Promise<void> {
    this.resetAt.delete(webhookId);
    await this.redis.client
      .multi()
      .hincrby(this.key(webhookId), 'consecutiveFailures', 1)
      .hset(this.key(webhookId), { lastError: error.slice(0, 1000), lastFailureAt: new Date().toISOString() })
      .exec();
  }

  async succeeded(webhookId: string): Promise<void> {
    const now = Date.now();
    if (now - (this.resetAt.get(webhookId) ?? 0) < RESET_EVERY_MS) return;
    if (this.resetAt.size > 10_000) this.resetAt.clear();
    this.resetAt.set(webhookId, now);
    await this.redis.client.hset(this.key(webhookId), 'consecutiveFailures', 0);
  }

  /** One round trip for a page of webhooks. */
  async of(webhookIds: string[]): Promise<TransformHealthView[]> {
    const pipe = this.redis.client.pipeline();
    for (const id of webhookIds) pipe.hgetall(this.key(id));
    return ((await pipe.exec()) ?? []).map(([err, reply]) => {
      if (err) throw err;
      const h = reply as Record<string, string>;
      return {
        consecutiveFailures: Number(h.consecutiveFailures ?? 0),
        lastError: h.lastError ?? null,
        lastFailureAt: h.lastFailureAt ?? null,
      };
    });
  }

  /** A new expression (or none, or a deleted webhook) starts with a clean record. */
  async forget(webhookId: string): Promise<void> {
    this.resetAt.delete(webhookId);
    await this.redis.client.del(this.key(webhookId));
  }
}
