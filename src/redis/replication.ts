import { Cluster, type ChainableCommander } from 'ioredis';
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
  const pipe = conn
    .pipeline()
    .exists(...keys)
    .set(mark, String(Date.now()), 'PX', MARK_TTL_MS)
    .call('WAIT', replicas, timeoutMs);
  const [present, , acked] = await execWithWait<[number, string, number]>(conn, pipe);
  return { present, replicas: acked };
}

/**
 * Runs a pipeline that ends with WAIT; its replies, or the first error. A Cluster retries a pipeline on MOVED only when
 * no write in it succeeded, and WAIT (a keyless write) succeeds on whichever node the stale slot map named: after a
 * failover the error comes back, and no command of a connection used only for these pipelines would ever refresh its
 * slot map, so every later pipeline would go to the old node (publishes answering 503 for good). Refresh it on MOVED:
 * the caller's retry then reaches the new master.
 */
export async function execWithWait<T extends unknown[]>(conn: RedisClient, pipe: ChainableCommander): Promise<T> {
  const results = await pipe.exec();
  if (!results) throw new Error('Redis pipeline aborted');
  for (const [err] of results) {
    if (!err) continue;
    if (conn instanceof Cluster && /^(MOVED|ASK) /.test(err.message)) conn.refreshSlotsCache();
    throw err;
  }
  return results.map(([, r]) => r) as T;
}
