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

export interface HistoryEvent {
  id: string;
  type: string;
  data: Record<string, unknown>;
}

/** Every event in `GET /api/v1/events/history` (all pages, 1000 per request), newest first. */
export async function historyEvents(apiUrl: string, apiKey: string): Promise<HistoryEvent[]> {
  const all: HistoryEvent[] = [];
  let cursor: string | null = null;
  do {
    const q: string = `limit=1000${cursor ? `&cursor=${cursor}` : ''}`;
    const page: { events: HistoryEvent[]; nextCursor: string | null } = await getJson(`${apiUrl}/api/v1/events/history?${q}`, {
      authorization: `Bearer ${apiKey}`,
    });
    all.push(...page.events);
    cursor = page.nextCursor;
  } while (cursor);
  return all;
}

export async function historyIds(apiUrl: string, apiKey: string): Promise<Set<string>> {
  return new Set((await historyEvents(apiUrl, apiKey)).map((e) => e.id));
}

/** Acknowledged ids that are not in `present`. */
export function missingIds(acked: Iterable<string>, present: Set<string>): string[] {
  const out: string[] = [];
  for (const id of acked) if (!present.has(id)) out.push(id);
  return out;
}

/** Values that occur more than once (e.g. one published message stored or delivered under two event ids). */
export function duplicateCount(values: Iterable<string | number>): number {
  const seen = new Set<string | number>();
  let dups = 0;
  for (const v of values) {
    if (seen.has(v)) dups++;
    else seen.add(v);
  }
  return dups;
}

/** One JSON line per fault test: `{"fault", published, acknowledged, delivered, deadLettered, duplicates, lost, …}`. */
export function printAccounting(fault: string, a: Accounting, extra: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ fault, ...a, ...extra })}\n`);
}
