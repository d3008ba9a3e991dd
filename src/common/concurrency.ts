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
