/**
 * Runs `fn(0)` … `fn(count - 1)` with at most `limit` calls in flight, starting them in index order; resolves when all
 * resolved, rejects with the first rejection (the other lanes go on to the end).
 */
export async function forEachLimit(count: number, limit: number, fn: (index: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < count) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, lane));
}

/**
 * At most `capacity` tasks run at once; when they are all taken, waiting tasks start round-robin over their keys, and
 * within a key in the order of their `rank` (then arrival). A key with one waiting task therefore waits for at most one
 * task of each other waiting key, however many those keys have queued: a flood of one key cannot queue in front of
 * another key's work. Ranks let a caller finish its older work first (e.g. the tasks of its oldest job). A task still
 * running after `holdMaxMs` gives its slot up (it goes on, uncounted): slots bound busy work, and a slow task (waiting
 * on a slow peer) cannot hold one for longer than that.
 */
export class FairSlots {
  private running = 0;
  private ticket = 0;
  /** Waiting tasks by key, sorted by rank; the Map's insertion order is the round-robin ring (a served key moves to its end). */
  private readonly waiting = new Map<string, { rank: number; wake: () => void }[]>();

  constructor(
    readonly capacity: number,
    private readonly holdMaxMs: number,
  ) {}

  /** A rank after every rank handed out so far (arrival order). */
  nextRank(): number {
    return this.ticket++;
  }

  async run<T>(key: string, task: () => Promise<T>, rank = this.nextRank()): Promise<T> {
    if (this.running < this.capacity) this.running++;
    else
      await new Promise<void>((wake) => {
        const q = this.waiting.get(key);
        if (!q) return void this.waiting.set(key, [{ rank, wake }]);
        let at = q.length;
        while (at > 0 && q[at - 1].rank > rank) at--;
        q.splice(at, 0, { rank, wake });
      });
    let held = true;
    const free = () => {
      if (!held) return;
      held = false;
      this.release();
    };
    const timer = setTimeout(free, this.holdMaxMs);
    try {
      return await task();
    } finally {
      clearTimeout(timer);
      free();
    }
  }

  /** Hands the freed slot to the next key of the ring (the slot stays counted as running), or frees it. */
  private release(): void {
    const next = this.waiting.entries().next();
    if (next.done) {
      this.running--;
      return;
    }
    const [key, q] = next.value;
    const { wake } = q.shift()!;
    this.waiting.delete(key);
    if (q.length) this.waiting.set(key, q);
    wake();
  }
}
