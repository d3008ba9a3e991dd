import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';

export interface Page<R> {
  items: R[];
  nextCursor: string | null;
}

/**
 * One page of a query ordered by `<alias>.id`, after (ASC) or before (DESC) the cursor: ids are time-sortable, so
 * the cursor is simply the last id returned. Fetches one row more than asked to know whether a next page exists.
 */
export async function keysetPage<T extends ObjectLiteral & { id: string }, R>(
  qb: SelectQueryBuilder<T>,
  alias: string,
  order: 'ASC' | 'DESC',
  limit: number,
  cursor: string | undefined,
  map: (row: T) => R,
): Promise<Page<R>> {
  if (cursor) qb.andWhere(`${alias}.id ${order === 'ASC' ? '>' : '<'} :cursor`, { cursor });
  const rows = await qb.orderBy(`${alias}.id`, order).limit(limit + 1).getMany();
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  return { items: page.map(map), nextCursor: more ? page[page.length - 1].id : null };
}
