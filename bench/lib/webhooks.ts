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
export async function waitDeliveries(receiver: LoadProcess<ReceiverMethods>, expected: number, stallMs = 15_000): Promise<ReceiverStats> {
  await waitUntilStalled(receiver, stallMs, (s) => s.unique >= expected);
  return receiver.call('stats', { keys: false });
}

/**
 * Polls the receiver until every one of `keys` (`/hook/<n>|<seq>`) has arrived, or until nothing new arrived for
 * `stallMs`; returns the stats and the keys still missing. A count is not enough when deliveries of events nobody
 * waits for (accepted without an acknowledgement) arrive too: they would make up for missing ones.
 */
export async function waitDeliveryKeys(
  receiver: LoadProcess<ReceiverMethods>,
  keys: string[],
  stallMs: number,
): Promise<{ stats: ReceiverStats; missing: string[] }> {
  let missing = keys;
  await waitUntilStalled(receiver, stallMs, async (s) => {
    if (s.unique < keys.length) return false;
    missing = await receiver.call('missing', missing);
    return missing.length === 0;
  });
  return { stats: await receiver.call('stats', { keys: false }), missing: await receiver.call('missing', missing) };
}

async function waitUntilStalled(
  receiver: LoadProcess<ReceiverMethods>,
  stallMs: number,
  done: (s: ReceiverStats) => boolean | Promise<boolean>,
): Promise<void> {
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const s = await receiver.call('stats', { keys: false });
    if ((await done(s)) || Date.now() - lastChange > stallMs) return;
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
