import type { RedisClient } from '../redis/redis.service.js';

/** A running fan-out job's done hash lives this long after its last write (a failed job's retries come within it). */
const RUNNING_TTL_MS = 3_600_000;

/**
 * The deliveries of one fan-out job already settled (RedisKeys.fanoutDone: delivery id → 1), so that a re-run of the
 * job (its worker was killed and BullMQ re-ran it as stalled, or it failed and is retried) repeats at most the
 * deliveries that had not settled. Marks are written as deliveries settle, coalesced into one pipelined write per tick.
 */
export class FanoutProgress {
  private pending: string[] = [];
  private flush: Promise<void> | null = null;

  private constructor(
    private readonly client: RedisClient,
    private readonly key: string,
    private readonly settled: ReadonlySet<string>,
  ) {}

  /** Reads what a previous run settled; a first run (`rerun` false) costs no round trip. */
  static async open(client: RedisClient, key: string, rerun: boolean): Promise<FanoutProgress> {
    // fields starting with '#' are the job's own marks (finishFanout), not deliveries
    const settled = rerun ? new Set(Object.keys(await client.hgetall(key)).filter((f) => !f.startsWith('#'))) : new Set<string>();
    return new FanoutProgress(client, key, settled);
  }

  /** Deliveries a previous run settled. */
  get skipped(): number {
    return this.settled.size;
  }

  done(deliveryId: string): boolean {
    return this.settled.has(deliveryId);
  }

  /** Records a settled delivery (its log row committed); resolves once written. */
  mark(deliveryId: string): Promise<void> {
    this.pending.push(deliveryId);
    this.flush ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      const ids = this.pending;
      this.pending = [];
      this.flush = null;
      const fields: string[] = [];
      for (const id of ids) fields.push(id, '1');
      return this.client
        .pipeline()
        .hset(this.key, ...fields)
        .pexpire(this.key, RUNNING_TTL_MS)
        .exec()
        .then(() => undefined);
    });
    return this.flush;
  }
}
