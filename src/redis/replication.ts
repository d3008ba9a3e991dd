import type { RedisClient } from './redis.service.js';

/** What confirmReplicated found: how many of the keys the master held, and how many replicas acknowledged. */
export interface ReplicationCheck {
  present: number;
  replicas: number;
}

const MARK_TTL_MS = 60_000;

/**
 * Whether `keys`, written by other connections, are on `replicas` replicas: one pipeline on `conn` of `EXISTS keys`,
 * a write of `mark`, then `WAIT replicas timeoutMs`. WAIT counts the replicas that acknowledged this connection's
 * writes (the mark); the replication stream is ordered, so they also hold every key EXISTS found just before on the
 * same master (a key missing there was lost in a failover between its write and this check). The mark and the keys
 * must share a hash tag: a Cluster routes the pipeline by it (WAIT has no key). Use a connection of its own: WAIT
 * blocks it for up to `timeoutMs`.
 */
export async function confirmReplicated(
  conn: RedisClient,
  mark: string,
  keys: readonly string[],
  replicas: number,
  timeoutMs: number,
): Promise<ReplicationCheck> {
  const results = await conn
    .pipeline()
    .exists(...keys)
    .set(mark, String(Date.now()), 'PX', MARK_TTL_MS)
    .call('WAIT', replicas, timeoutMs)
    .exec();
  if (!results) throw new Error('Redis pipeline aborted');
  for (const [err] of results) if (err) throw err;
  return { present: Number(results[0][1]), replicas: Number(results[2][1]) };
}
