import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { nowMs } from './time.js';

/** One request as it arrived. */
export interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  /** The raw body, as signed. */
  body: string;
  /** Arrival (nowMs: comparable across processes). */
  at: number;
}

/**
 * What the receiver does with one request: answer (status, headers, body, after a delay), never answer (`hang`: the
 * sender's timeout fires; the socket is dropped after 30 s), or destroy the connection without an answer (`reset`).
 */
export type Answer = { status: number; headers?: Record<string, string>; body?: string | Buffer; delayMs?: number } | 'hang' | 'reset';
/** `nth` counts the requests to the same path, from 1. */
export type Behaviour = (req: Received, nth: number) => Answer;

const OK: Behaviour = () => ({ status: 200, body: 'ok' });
const HANG_MS = 30_000;

export interface ReceiverOptions {
  /** Keep every request in `received` (default true); off for load runs, where a behaviour does its own accounting. */
  record?: boolean;
  /** How long an idle keep-alive connection stays open (default 5 s, node's own). */
  keepAliveTimeoutMs?: number;
}

/** Probabilities per request of each injected failure; the rest get the normal answer. */
export interface FailureRates {
  error500: number;
  /** Never answered (`hang`). */
  timeout: number;
  /** The connection is destroyed without an answer. */
  reset: number;
}
export type FailureCounts = { [K in keyof FailureRates]: number };

/** A behaviour that fails at random at the given rates (counting each failure in `injected`), else answers with `then`. */
export function failingAtRandom(
  rates: FailureRates,
  then: Behaviour,
  injected: FailureCounts,
  random: () => number = Math.random,
): Behaviour {
  return (req, nth) => {
    const r = random();
    if (r < rates.reset) {
      injected.reset++;
      return 'reset';
    }
    if (r < rates.reset + rates.timeout) {
      injected.timeout++;
      return 'hang';
    }
    if (r < rates.reset + rates.timeout + rates.error500) {
      injected.error500++;
      return { status: 500, body: 'injected failure' };
    }
    return then(req, nth);
  };
}

/**
 * A real webhook receiver: a keep-alive node:http server on loopback that records every request (raw body, headers,
 * arrival time) and answers with a behaviour per path (default 200 "ok"). The tests use it in their own process; the
 * benchmarks and the fault suite run it in a process of its own (bench/load/receiver.ts).
 */
export class Receiver {
  readonly received: Received[] = [];
  url = '';
  private readonly behaviours = new Map<string, Behaviour>();
  private readonly counts = new Map<string, number>();
  private fallback: Behaviour = OK;
  private record = true;
  private server!: http.Server;

  static async start(opts: ReceiverOptions = {}): Promise<Receiver> {
    const r = new Receiver();
    r.record = opts.record ?? true;
    r.server = http.createServer((req, res) => r.handle(req, res));
    r.server.keepAliveTimeout = opts.keepAliveTimeoutMs ?? 5_000;
    r.server.maxRequestsPerSocket = 0;
    await new Promise<void>((resolve) => r.server.listen(0, '127.0.0.1', 1024, resolve));
    r.url = `http://127.0.0.1:${(r.server.address() as AddressInfo).port}`;
    return r;
  }

  /** How requests to `path` are answered. */
  on(path: string, behaviour: Behaviour): this {
    this.behaviours.set(path, behaviour);
    return this;
  }

  /** How requests to every other path are answered. */
  otherwise(behaviour: Behaviour): this {
    this.fallback = behaviour;
    return this;
  }

  at(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = nowMs();
      const path = (req.url ?? '/').split('?')[0];
      const rec: Received = { path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at };
      if (this.record) this.received.push(rec);
      const n = (this.counts.get(path) ?? 0) + 1;
      this.counts.set(path, n);
      const answer = (this.behaviours.get(path) ?? this.fallback)(rec, n);
      if (answer === 'reset') {
        req.socket.destroy();
        return;
      }
      if (answer === 'hang') {
        setTimeout(() => req.socket.destroy(), HANG_MS).unref();
        return;
      }
      const send = () => res.writeHead(answer.status, answer.headers).end(answer.body ?? '');
      if (answer.delayMs) setTimeout(send, answer.delayMs);
      else send();
    });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}
