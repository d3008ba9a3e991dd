/** Shared pieces of the fault suite (not a test file: only `*.fault.js` files are run). */
import assert from 'node:assert/strict';
import { duplicateCount, historyEvents, missingIds, printAccounting, type HistoryEvent } from '../lib/accounting.js';
import { LoadProcess } from '../lib/rpc.js';
import { BENCH_WEBHOOK_SECRET, createWebhooks, dlqEntries, waitDeliveryKeys, type DlqEntry, type WebhookSpec } from '../lib/webhooks.js';
import type { FixedRatePlan, PublisherMethods, PublishOutcome } from '../load/publisher.js';
import type { ReceiverFaults, ReceiverMethods, ReceiverStats } from '../load/receiver.js';
import { BOOTSTRAP_KEY, Stack, type StackOptions } from '../../test/support/launcher.js';

export const loadScript = (file: string): URL => new URL(`../../bench/load/${file}`, import.meta.url);

/** Seconds of load per fault test: FAULT_SECONDS (CI sets a short value), default 12. */
export function faultSeconds(): number {
  const v = Number(process.env.FAULT_SECONDS ?? 12);
  return Number.isFinite(v) && v >= 3 ? v : 12;
}

/** Deterministic pseudo-random numbers for the fault schedule (FAULT_SEED), so a failing run can be replayed. */
export function seededRandom(seed = Number(process.env.FAULT_SEED ?? Date.now() % 100_000)): { next(): number; seed: number } {
  let s = seed >>> 0 || 1;
  return {
    seed,
    next: () => {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      return (s >>> 0) / 2 ** 32;
    },
  };
}

/** The app under test plus a publisher and a webhook receiver, each in its own process. */
export interface FaultRig {
  stack: Stack;
  publisher: LoadProcess<PublisherMethods>;
  receiver: LoadProcess<ReceiverMethods>;
  /**
   * `message.sent` batches of 10 for faultSeconds() through every API process (or `urls`), to companion comp-1 (or
   * `companions`), collecting the acknowledged ids unless told not to.
   */
  publish(
    load: Pick<FixedRatePlan, 'rate' | 'maxInFlight'> & Partial<Pick<FixedRatePlan, 'urls' | 'companions' | 'collectIds' | 'seconds'>>,
  ): Promise<PublishOutcome>;
  /** Starts the receiver (signatures checked; failing at random with `faults`) and creates `count` webhooks to it; their ids. */
  webhooks(count: number, spec?: WebhookSpec & { faults?: ReceiverFaults }): Promise<string[]>;
  /** Every DLQ entry of org_default. */
  dlq(): Promise<DlqEntry[]>;
  stop(): Promise<void>;
}

export async function startRig(opts: StackOptions): Promise<FaultRig> {
  const stack = await Stack.start(opts);
  const publisher = LoadProcess.start<PublisherMethods>(loadScript('publisher.js'), 'publisher');
  const receiver = LoadProcess.start<ReceiverMethods>(loadScript('receiver.js'), 'receiver');
  return {
    stack,
    publisher,
    receiver,
    publish: ({ urls = stack.apiUrls(), companions = ['comp-1'], collectIds = true, ...load }) =>
      publisher.call('fixedRate', { urls, apiKey: BOOTSTRAP_KEY, batch: 10, companions, collectIds, seconds: faultSeconds(), ...load }),
    webhooks: async (count, { faults, ...spec } = {}) => {
      const { url } = await receiver.call('start', { secret: BENCH_WEBHOOK_SECRET, faults });
      return createWebhooks(stack.apiUrls()[0], BOOTSTRAP_KEY, url, count, spec);
    },
    dlq: () => dlqEntries(stack.apiUrls()[0], BOOTSTRAP_KEY),
    stop: async () => {
      await Promise.all([publisher.stop(), receiver.stop()]);
      await stack.stop();
    },
  };
}

/** The load's sequence number of a history event (`data.metadata.seq`). */
export const seqOf = (e: HistoryEvent): number => (e.data.metadata as { seq: number }).seq;

/** Where each acknowledged event of a publish load ended up: the history, and every webhook of the receiver. */
export interface HistoryAndDeliveries {
  /** The load's events in the history (system events such as error.occurred from failed deliveries aside). */
  history: HistoryEvent[];
  /** Types of the other events in the history. */
  systemEvents: string[];
  /** Ids the publisher got a 202 for. */
  acked: Set<string>;
  missingFromHistory: string[];
  /** `/hook/<n>|<seq>` of acknowledged events that had not arrived when deliveries stalled. */
  undelivered: string[];
  /** Published messages stored under two event ids. */
  storedTwice: number;
  got: ReceiverStats;
}

/**
 * Waits for the history writer to finish, reads the history, waits for each acknowledged event's delivery to each of
 * `hooks` webhooks (`/hook/<n>`) until all arrived or nothing new came for `stallMs`, and prints the accounting line
 * of `fault` with `extra(…)` fields.
 */
export async function accountHistoryAndDeliveries(
  rig: FaultRig,
  outcome: PublishOutcome,
  opts: { fault: string; hooks: number; stallMs: number; extra(a: HistoryAndDeliveries): Record<string, unknown> },
): Promise<HistoryAndDeliveries> {
  const { stack, receiver } = rig;
  await stack.waitBacklogZero('history', 0, 60_000);
  const all = await historyEvents(stack.apiUrls()[0], BOOTSTRAP_KEY);
  const history = all.filter((e) => typeof (e.data.metadata as { seq?: unknown } | undefined)?.seq === 'number');
  const systemEvents = [...new Set(all.filter((e) => !history.includes(e)).map((e) => e.type))];
  const acked = new Set(outcome.ids);
  const expected = history
    .filter((e) => acked.has(e.id))
    .flatMap((e) => Array.from({ length: opts.hooks }, (_, i) => `/hook/${i}|${seqOf(e)}`));
  const { stats: got, missing: undelivered } = await waitDeliveryKeys(receiver, expected, opts.stallMs);
  const a: HistoryAndDeliveries = {
    history,
    systemEvents,
    acked,
    missingFromHistory: missingIds(outcome.ids, new Set(history.map((e) => e.id))),
    undelivered,
    storedTwice: duplicateCount(history.map(seqOf)),
    got,
  };
  printAccounting(
    opts.fault,
    {
      published: outcome.offered,
      acknowledged: outcome.acked,
      delivered: got.unique,
      deadLettered: 0,
      duplicates: a.storedTwice + got.duplicates,
      lost: a.missingFromHistory.length + undelivered.length,
    },
    {
      statuses: outcome.statuses,
      ...opts.extra(a),
      inHistory: history.length,
      systemEvents,
      acceptedWithoutAck: history.length - a.storedTwice - outcome.acked,
      webhooks: opts.hooks,
      missingFromHistory: a.missingFromHistory.length,
      undeliveredWebhooks: undelivered.length,
      webhookIdMismatches: got.webhookIdMismatches,
    },
  );
  return a;
}

/** Only 202 and 503 answers; every acknowledged event stored once, in the history and delivered to every webhook. */
export function assertNothingLost(a: HistoryAndDeliveries, outcome: PublishOutcome): void {
  for (const status of Object.keys(outcome.statuses))
    assert.ok(['202', '503'].includes(status), `only 202 or 503, got ${JSON.stringify(outcome.statuses)}`);
  assert.deepEqual(a.missingFromHistory, [], 'every acknowledged event is in the history');
  assert.equal(a.storedTwice, 0, 'no message stored twice');
  assert.deepEqual(a.undelivered, [], 'every acknowledged event reached every webhook');
  assert.equal(a.got.webhookIdMismatches, 0);
}
