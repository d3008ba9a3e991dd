/** Shared pieces of the fault suite (not a test file: only `*.fault.js` files are run). */
import { LoadProcess } from '../lib/rpc.js';
import { BENCH_WEBHOOK_SECRET, createWebhooks, dlqEntries, type DlqEntry, type WebhookSpec } from '../lib/webhooks.js';
import type { FixedRatePlan, PublisherMethods, PublishOutcome } from '../load/publisher.js';
import type { ReceiverFaults, ReceiverMethods } from '../load/receiver.js';
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
