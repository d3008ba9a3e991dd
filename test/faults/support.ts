/** Shared pieces of the fault suite (not a test file: only `*.fault.js` files are run). */
import { LoadProcess } from '../../bench/lib/rpc.js';
import type { PublisherMethods } from '../../bench/load/publisher.js';
import type { ReceiverMethods } from '../../bench/load/receiver.js';
import { Stack, type StackOptions } from '../support/launcher.js';

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
    stop: async () => {
      await Promise.all([publisher.stop(), receiver.stop()]);
      await stack.stop();
    },
  };
}
