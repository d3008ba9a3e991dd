import { sleep } from '../../test/support/time.js';
import { getJson, keepAliveAgent, postJson } from './http.js';
import { perSec } from './report.js';
import type { LoadProcess } from './rpc.js';
import type { ReceiverMethods, ReceiverStats } from '../load/receiver.js';

/** A Standard Webhooks secret (whsec_ + base64) so both signatures are exercised. */
export const BENCH_WEBHOOK_SECRET = `whsec_${Buffer.from('humana-bench-webhook-secret-24b').toString('base64')}`;

export interface WebhookSpec {
  retry?: { maxAttempts: number; backoffMultiplier: number; maxDelay: number };
  timeoutMs?: number;
  filters?: Record<string, string[]>;
}

/** Creates `count` webhooks for `message.sent`, one receiver path each (`/hook/<n>`); returns their ids. */
export async function createWebhooks(
  apiUrl: string,
  apiKey: string,
  receiverUrl: string,
  count: number,
  spec: WebhookSpec | ((i: number) => WebhookSpec) = {},
): Promise<string[]> {
  const agent = keepAliveAgent(4);
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const extra = typeof spec === 'function' ? spec(i) : spec;
    const body = JSON.stringify({
      url: `${receiverUrl}/hook/${i}`,
      events: ['message.sent'],
      secret: BENCH_WEBHOOK_SECRET,
      description: `bench ${i}`,
      ...extra,
    });
    const reply = await postJson(agent, `${apiUrl}/api/v1/webhooks`, body, { authorization: `Bearer ${apiKey}` });
    if (reply.status !== 201) throw new Error(`POST /api/v1/webhooks → ${reply.status}: ${reply.body.slice(0, 300)}`);
    ids.push((JSON.parse(reply.body) as { id: string }).id);
  }
  agent.destroy();
  return ids;
}

/** Deliveries per second between the first and the last arrival at a receiver. */
export const drainRate = (s: ReceiverStats): number => perSec(s.unique, (s.lastOkMs - s.firstOkMs) / 1000);

/**
 * Polls the receiver until it has `expected` unique deliveries, or until nothing new arrived for `stallMs`
 * (bounded: whatever is missing then is reported, not waited for forever).
 */
export async function waitDeliveries(
  receiver: LoadProcess<ReceiverMethods>,
  expected: number,
  stallMs = 15_000,
  keys = false,
): Promise<ReceiverStats> {
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const s = await receiver.call('stats', { keys: false });
    if (s.unique >= expected || Date.now() - lastChange > stallMs) return keys ? receiver.call('stats', { keys: true }) : s;
    if (s.unique !== last) {
      last = s.unique;
      lastChange = Date.now();
    }
    await sleep(50);
  }
}

export interface DlqEntry {
  id: string;
  event: { id: string; data: { metadata?: { seq?: number } } };
  originalWebhook: { id: string; url: string };
  attempts: unknown[];
  failureReason: string;
}

/** Every DLQ entry of the organization (all pages). */
export async function dlqEntries(apiUrl: string, apiKey: string): Promise<DlqEntry[]> {
  const all: DlqEntry[] = [];
  let cursor: string | null = null;
  do {
    const q: string = `limit=1000${cursor ? `&cursor=${cursor}` : ''}`;
    const page: { failedWebhooks: DlqEntry[]; nextCursor: string | null } = await getJson(`${apiUrl}/api/v1/dlq?${q}`, {
      authorization: `Bearer ${apiKey}`,
    });
    all.push(...page.failedWebhooks);
    cursor = page.nextCursor;
  } while (cursor);
  return all;
}
