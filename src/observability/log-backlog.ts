import type { RedisClient } from '../redis/redis.service.js';

export interface ConsumerGroupBacklog {
  group: string;
  /** Read by a consumer but not acknowledged yet. */
  pending: number;
  /** Not read by the group yet. */
  lag: number;
}

/** Backlog of every consumer group of the event log, summed over its partitions' streams. */
export async function consumerGroupBacklogs(redis: RedisClient, streamKeys: readonly string[]): Promise<ConsumerGroupBacklog[]> {
  const sums = new Map<string, ConsumerGroupBacklog>();
  for (const per of await Promise.all(streamKeys.map((k) => streamBacklogs(redis, k)))) {
    for (const b of per) {
      const sum = sums.get(b.group);
      if (sum) {
        sum.pending += b.pending;
        sum.lag += b.lag;
      } else sums.set(b.group, { ...b });
    }
  }
  return [...sums.values()];
}

/** Backlog of every consumer group of one stream (XINFO GROUPS; Redis 7 reports `lag`). */
async function streamBacklogs(redis: RedisClient, streamKey: string): Promise<ConsumerGroupBacklog[]> {
  let groups: unknown[][];
  try {
    groups = (await redis.call('XINFO', 'GROUPS', streamKey)) as unknown[][];
  } catch (err) {
    if (/no such key/i.test((err as Error).message)) return [];
    throw err;
  }
  return Promise.all(
    groups.map(async (flat) => {
      const info: Record<string, unknown> = {};
      for (let i = 0; i < flat.length; i += 2) info[String(flat[i])] = flat[i + 1];
      // `lag` is nil when Redis cannot tell (entries deleted inside the unread range): count them instead.
      const lag = info.lag ?? (await redis.xrange(streamKey, `(${String(info['last-delivered-id'])}`, '+')).length;
      return { group: String(info.name), pending: Number(info.pending ?? 0), lag: Number(lag) };
    }),
  );
}
