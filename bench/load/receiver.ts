import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { nowMs } from '../../test/support/time.js';
import { scheduledMsOf } from '../lib/events.js';
import { Latency } from '../lib/histogram.js';
import { serve } from '../lib/rpc.js';

/** Probabilities per request of each injected failure (the rest answer 200). */
export interface ReceiverFaults {
  error500: number;
  /** Never answered (the sender's timeout fires); the socket is dropped after 30 s. */
  timeout: number;
  /** The connection is destroyed without an answer. */
  reset: number;
}

export interface ReceiverOptions {
  /** When set, every request's X-Humana-Signature is checked against this secret. */
  secret?: string;
  faults?: ReceiverFaults;
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

/**
 * The webhook receiver of the benchmarks and the fault suite: a keep-alive node:http server on loopback, in its own
 * process, that records each delivery once (by path and event), checks webhook-id stability and signatures, and can
 * fail on purpose.
 */
class Receiver {
  private server?: http.Server;
  private opts: ReceiverOptions = {};
  private first = new Map<string, string>();
  private perPath: Record<string, number> = {};
  private latency = Latency.create();
  private counts = { requests: 0, ok: 0, duplicates: 0, webhookIdMismatches: 0, badSignatures: 0 };
  private injected = { error500: 0, timeout: 0, reset: 0 };
  private firstOkMs = 0;
  private lastOkMs = 0;

  async start(opts: ReceiverOptions): Promise<{ url: string }> {
    this.opts = opts;
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.keepAliveTimeout = 65_000;
    this.server.maxRequestsPerSocket = 0;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', 1024, resolve));
    return { url: `http://127.0.0.1:${(this.server.address() as AddressInfo).port}` };
  }

  setFaults(faults: ReceiverFaults | null): void {
    this.opts.faults = faults ?? undefined;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = nowMs();
      this.counts.requests++;
      const f = this.opts.faults;
      if (f) {
        const r = Math.random();
        if (r < f.reset) {
          this.injected.reset++;
          req.socket.destroy();
          return;
        }
        if (r < f.reset + f.timeout) {
          this.injected.timeout++;
          setTimeout(() => req.socket.destroy(), 30_000).unref();
          return;
        }
        if (r < f.reset + f.timeout + f.error500) {
          this.injected.error500++;
          res.writeHead(500).end('injected failure');
          return;
        }
      }
      const body = Buffer.concat(chunks).toString('utf8');
      if (this.opts.secret && !this.signatureOk(req, body)) this.counts.badSignatures++;
      this.record(req, body, at);
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  }

  private signatureOk(req: http.IncomingMessage, body: string): boolean {
    const sig = String(req.headers['x-humana-signature'] ?? '');
    const expected = createHmac('sha256', this.opts.secret!).update(`${req.headers['x-humana-timestamp']}.${body}`).digest('hex');
    return sig.length === expected.length && timingSafeEqual(Buffer.from(sig), Buffer.from(expected));
  }

  private record(req: http.IncomingMessage, body: string, at: number): void {
    this.counts.ok++;
    this.lastOkMs = at;
    if (!this.firstOkMs) this.firstOkMs = at;
    const path = (req.url ?? '/').split('?')[0];
    const envelope = JSON.parse(body) as { data?: { metadata?: { seq?: number } } };
    const key = `${path}|${envelope.data?.metadata?.seq}`;
    const webhookId = String(req.headers['webhook-id'] ?? '');
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

  reset(): void {
    this.first = new Map();
    this.perPath = {};
    this.latency = Latency.create();
    this.counts = { requests: 0, ok: 0, duplicates: 0, webhookIdMismatches: 0, badSignatures: 0 };
    this.injected = { error500: 0, timeout: 0, reset: 0 };
    this.firstOkMs = 0;
    this.lastOkMs = 0;
  }
}

const receiver = new Receiver();
const methods = {
  start: (o: ReceiverOptions) => receiver.start(o),
  setFaults: (f: ReceiverFaults | null) => receiver.setFaults(f),
  stats: (o: { keys?: boolean }) => receiver.stats(o),
  reset: (_: void) => receiver.reset(),
};
export type ReceiverMethods = typeof methods;
if (process.send) serve(methods);
