import { createHmac, timingSafeEqual } from 'node:crypto';
import { failingAtRandom, Receiver, type Answer, type Behaviour, type FailureRates, type Received } from '../../test/support/receiver.js';
import { scheduledMsOf } from '../lib/events.js';
import { Latency } from '../lib/histogram.js';
import { serve } from '../lib/rpc.js';

/** Probabilities per request of each injected failure (the rest answer 200). */
export type ReceiverFaults = FailureRates;

export interface ReceiverOptions {
  /** When set, every request's X-Humana-Signature is checked against this secret. */
  secret?: string;
  faults?: ReceiverFaults;
  /** Every answer waits this long (a remote endpoint's latency). */
  delayMs?: number;
}

export interface ReceiverStats {
  requests: number;
  /** Requests answered 2xx. */
  ok: number;
  /** Distinct (path, event) pairs answered 2xx: deliveries that arrived. */
  unique: number;
  /** 2xx answers for a (path, event) pair that had already been answered 2xx. */
  duplicates: number;
  /** Repeated deliveries of one (path, event) whose `webhook-id` differed from the first one's. */
  webhookIdMismatches: number;
  badSignatures: number;
  injected: { error500: number; timeout: number; reset: number };
  /** First 2xx receipt of each delivery: arrival − the event's scheduled publish time. */
  latency: string;
  firstOkMs: number;
  lastOkMs: number;
  /** Unique deliveries per path. */
  perPath: Record<string, number>;
  /** `path|seq` of every unique delivery (only when asked for). */
  keys?: string[];
}

const OK = { status: 200, headers: { 'content-type': 'text/plain' }, body: 'ok' };

/**
 * The webhook receiver of the benchmarks and the fault suite, in a process of its own: the shared receiver
 * (test/support/receiver.ts) without per-request recording, counting each delivery once (by path and event),
 * checking webhook-id stability and signatures, and failing on purpose when told to.
 */
class DeliveryTally {
  private opts: ReceiverOptions = {};
  private first = new Map<string, string>();
  private perPath: Record<string, number> = {};
  private latency = Latency.create();
  private counts = { requests: 0, ok: 0, duplicates: 0, webhookIdMismatches: 0, badSignatures: 0 };
  private injected = { error500: 0, timeout: 0, reset: 0 };
  private firstOkMs = 0;
  private lastOkMs = 0;
  private answer: Behaviour = (req) => this.deliver(req);

  async start(opts: ReceiverOptions): Promise<{ url: string }> {
    this.opts = opts;
    this.setFaults(opts.faults ?? null);
    const rx = await Receiver.start({ record: false, keepAliveTimeoutMs: 65_000 });
    rx.otherwise((req, nth) => {
      this.counts.requests++;
      return this.answer(req, nth);
    });
    return { url: rx.url };
  }

  setFaults(faults: ReceiverFaults | null): void {
    const deliver: Behaviour = (req) => this.deliver(req);
    this.answer = faults ? failingAtRandom(faults, deliver, this.injected) : deliver;
  }

  private deliver(req: Received): Answer {
    if (this.opts.secret && !this.signatureOk(req)) this.counts.badSignatures++;
    this.record(req);
    return this.opts.delayMs ? { ...OK, delayMs: this.opts.delayMs } : OK;
  }

  private signatureOk(req: Received): boolean {
    const sig = String(req.headers['x-humana-signature'] ?? '');
    const expected = createHmac('sha256', this.opts.secret!).update(`${req.headers['x-humana-timestamp']}.${req.body}`).digest('hex');
    return sig.length === expected.length && timingSafeEqual(Buffer.from(sig), Buffer.from(expected));
  }

  private record({ path, headers, body, at }: Received): void {
    this.counts.ok++;
    this.lastOkMs = at;
    if (!this.firstOkMs) this.firstOkMs = at;
    const envelope = JSON.parse(body) as { data?: { metadata?: { seq?: number } } };
    const key = `${path}|${envelope.data?.metadata?.seq}`;
    const webhookId = String(headers['webhook-id'] ?? '');
    const seen = this.first.get(key);
    if (seen !== undefined) {
      this.counts.duplicates++;
      if (seen !== webhookId) this.counts.webhookIdMismatches++;
      return;
    }
    this.first.set(key, webhookId);
    this.perPath[path] = (this.perPath[path] ?? 0) + 1;
    const scheduled = scheduledMsOf(envelope.data);
    if (scheduled !== undefined) this.latency.record(at - scheduled);
  }

  stats(opts: { keys?: boolean } = {}): ReceiverStats {
    return {
      ...this.counts,
      unique: this.first.size,
      injected: { ...this.injected },
      latency: this.latency.encode(),
      firstOkMs: this.firstOkMs,
      lastOkMs: this.lastOkMs,
      perPath: { ...this.perPath },
      keys: opts.keys ? [...this.first.keys()] : undefined,
    };
  }

  /** Which of `keys` (`path|seq`) have not been answered 2xx yet. */
  missing(keys: string[]): string[] {
    return keys.filter((k) => !this.first.has(k));
  }

  reset(): void {
    this.first = new Map();
    this.perPath = {};
    this.latency = Latency.create();
    this.counts = { requests: 0, ok: 0, duplicates: 0, webhookIdMismatches: 0, badSignatures: 0 };
    this.injected.error500 = this.injected.timeout = this.injected.reset = 0;
    this.firstOkMs = 0;
    this.lastOkMs = 0;
  }
}

const tally = new DeliveryTally();
const methods = {
  start: (o: ReceiverOptions) => tally.start(o),
  setFaults: (f: ReceiverFaults | null) => tally.setFaults(f),
  stats: (o: { keys?: boolean }) => tally.stats(o),
  missing: (keys: string[]) => tally.missing(keys),
  reset: (_: void) => tally.reset(),
};
export type ReceiverMethods = typeof methods;
if (process.send) serve(methods);
