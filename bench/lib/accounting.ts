import { getJson } from './http.js';

/** What every fault test and scenario prints about its events. */
export interface Accounting {
  published: number;
  acknowledged: number;
  delivered: number;
  deadLettered: number;
  duplicates: number;
  lost: number;
}

/** Every event id in `GET /api/v1/events/history` (all pages, 1000 per request). */
export async function historyIds(apiUrl: string, apiKey: string): Promise<Set<string>> {
  const ids = new Set<string>();
  let cursor: string | null = null;
  do {
    const q: string = `limit=1000${cursor ? `&cursor=${cursor}` : ''}`;
    const page: { events: { id: string }[]; nextCursor: string | null } = await getJson(`${apiUrl}/api/v1/events/history?${q}`, {
      authorization: `Bearer ${apiKey}`,
    });
    for (const e of page.events) ids.add(e.id);
    cursor = page.nextCursor;
  } while (cursor);
  return ids;
}

/** Acknowledged ids that are not in `present`. */
export function missingIds(acked: Iterable<string>, present: Set<string>): string[] {
  const out: string[] = [];
  for (const id of acked) if (!present.has(id)) out.push(id);
  return out;
}
