import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';

export interface Page<R> {
  items: R[];
  nextCursor: string | null;
}

export interface PageBudget<R> {
  /** Stop adding items once their serialized JSON reaches this many bytes (at least one item is always returned). */
  maxBytes: number;
  /** Serialized size of one item; default: UTF-8 bytes of JSON.stringify(item). */
  sizeOf?: (item: R) => number;
  /** Rows read per query while filling a budgeted page (bounds the rows held in memory at once); default 100. */
  chunk?: number;
}

const jsonBytes = (item: unknown): number => Buffer.byteLength(JSON.stringify(item) ?? '');

/**
 * One page of a query ordered by `<alias>.id`, after (ASC) or before (DESC) the cursor: ids are time-sortable, so
 * the cursor is simply the last id returned. Fetches one row more than asked to know whether a next page exists.
 *
 * With a byte budget, rows are read in chunks and the page ends early once the mapped items' JSON reaches `maxBytes`
 * (the item that reaches it is included, so every page makes progress), with a nextCursor to continue: `limit` bounds
 * the count, the budget the size of an answer (and of what is read for it) whose items can each be large.
 */
export async function keysetPage<T extends ObjectLiteral & { id: string }, R>(
  qb: SelectQueryBuilder<T>,
  alias: string,
  order: 'ASC' | 'DESC',
  limit: number,
  cursor: string | undefined,
  map: (row: T) => R,
  budget?: PageBudget<R>,
): Promise<Page<R>> {
  const op = order === 'ASC' ? '>' : '<';
  qb.orderBy(`${alias}.id`, order);
  if (!budget) {
    if (cursor) qb.andWhere(`${alias}.id ${op} :cursor`, { cursor });
    const rows = await qb.limit(limit + 1).getMany();
    const more = rows.length > limit;
    const page = more ? rows.slice(0, limit) : rows;
    return { items: page.map(map), nextCursor: more ? page[page.length - 1].id : null };
  }
  const sizeOf = budget.sizeOf ?? jsonBytes;
  const chunk = Math.max(1, budget.chunk ?? 100);
  const items: R[] = [];
  let bytes = 0;
  let last = cursor;
  for (;;) {
    const q = qb.clone();
    if (last) q.andWhere(`${alias}.id ${op} :keysetCursor`, { keysetCursor: last });
    const want = Math.min(chunk, limit - items.length);
    const rows = await q.limit(want + 1).getMany();
    const more = rows.length > want;
    const page = more ? rows.slice(0, want) : rows;
    for (const row of page) {
      const item = map(row);
      items.push(item);
      last = row.id;
      bytes += sizeOf(item);
      if (bytes >= budget.maxBytes) {
        const rest = row !== page[page.length - 1] || more;
        return { items, nextCursor: rest ? row.id : null };
      }
    }
    if (!more) return { items, nextCursor: null };
    if (items.length >= limit) return { items, nextCursor: last ?? null };
  }
}
