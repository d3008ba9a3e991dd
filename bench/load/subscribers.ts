import http from 'node:http';
import { WebSocket } from 'ws';
import { nowMs, sleep } from '../../test/support/time.js';
import { scheduledMsOf } from '../lib/events.js';
import { Latency } from '../lib/histogram.js';
import { serve } from '../lib/rpc.js';

export type Transport = 'sse' | 'ws';

export interface PoolPlan {
  transport: Transport;
  /** Base URLs (http://…) of the API processes or the bare server; connections go round-robin. */
  urls: string[];
  count: number;
  apiKey: string;
  /** Subscriber i filters on companions[i % length]. */
  companions: string[];
  /** Keep every received event id per connection (fault accounting). */
  collectIds?: boolean;
  /** SSE only: when a stream ends, reconnect to the next URL with Last-Event-ID. */
  reconnect?: boolean;
}

export interface ConnectionStats {
  companion: string;
  received: number;
  /** Events whose id was not greater than the previous one (duplicates or reordering). */
  notIncreasing: number;
  reconnects: number;
  ids?: string[];
}

export interface PoolStats {
  open: number;
  received: number;
  notIncreasing: number;
  reconnects: number;
  /** Arrival − the event's scheduled publish time, every event on every connection. */
  latency: string;
  connections: ConnectionStats[];
}

interface Sub extends ConnectionStats {
  lastId: string;
  urlIndex: number;
  open: boolean;
  close(): void;
}

/**
 * A pool of real-time subscribers in its own process: SSE over node:http (a small incremental text/event-stream
 * parser) or raw WebSocket (`ws`), each filtering on one companion, all recording latency and id order.
 */
class Pool {
  private subs: Sub[] = [];
  private latency = Latency.create();
  private plan!: PoolPlan;
  private closing = false;
  private readonly agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });

  async open(plan: PoolPlan): Promise<{ opened: number; failed: number; ms: number }> {
    this.plan = plan;
    const t0 = nowMs();
    let failed = 0;
    const start = this.subs.length;
    for (let i = 0; i < plan.count; i++) {
      this.subs.push({
        companion: plan.companions[(start + i) % plan.companions.length],
        received: 0,
        notIncreasing: 0,
        reconnects: 0,
        ids: plan.collectIds ? [] : undefined,
        lastId: '',
        urlIndex: (start + i) % plan.urls.length,
        open: false,
        close: () => undefined,
      });
    }
    // Connect in waves so the server's accept queue is never the bottleneck being measured.
    const wave = 200;
    for (let i = start; i < this.subs.length; i += wave) {
      const results = await Promise.allSettled(this.subs.slice(i, i + wave).map((s) => this.connect(s)));
      failed += results.filter((r) => r.status === 'rejected').length;
    }
    return { opened: plan.count - failed, failed, ms: Math.round(nowMs() - t0) };
  }

  private onEvent(s: Sub, id: string, data: unknown, at: number): void {
    s.received++;
    if (id <= s.lastId) s.notIncreasing++;
    else s.lastId = id;
    s.ids?.push(id);
    const scheduled = scheduledMsOf(data);
    if (scheduled !== undefined) this.latency.record(at - scheduled);
  }

  private connect(s: Sub): Promise<void> {
    return this.plan.transport === 'sse' ? this.connectSse(s) : this.connectWs(s);
  }

  private query(s: Sub): string {
    return `companions=${encodeURIComponent(s.companion)}&events=message.sent&access_token=${encodeURIComponent(this.plan.apiKey)}`;
  }

  private connectSse(s: Sub): Promise<void> {
    const base = this.plan.urls[s.urlIndex % this.plan.urls.length];
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (s.lastId) headers['last-event-id'] = s.lastId;
    return new Promise((resolve, reject) => {
      const req = http.get(`${base}/api/v1/events/stream?${this.query(s)}`, { agent: this.agent, headers }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new Error(`SSE ${res.statusCode}`));
          return;
        }
        s.open = true;
        s.close = () => req.destroy();
        res.setEncoding('utf8');
        let buf = '';
        res.on('data', (chunk: string) => {
          const at = nowMs();
          buf += chunk;
          let end: number;
          while ((end = buf.indexOf('\n\n')) >= 0) {
            const frame = buf.slice(0, end);
            buf = buf.slice(end + 2);
            let event = 'message';
            let id = '';
            let data = '';
            for (const line of frame.split('\n')) {
              if (line.startsWith('event: ')) event = line.slice(7);
              else if (line.startsWith('id: ')) id = line.slice(4);
              else if (line.startsWith('data: ')) data += line.slice(6);
            }
            if (event === 'message.sent' && id) this.onEvent(s, id, JSON.parse(data), at);
          }
        });
        res.on('close', () => this.dropped(s));
        resolve();
      });
      req.on('error', (err) => {
        if (!s.open) reject(err);
        else this.dropped(s);
      });
    });
  }

  private connectWs(s: Sub): Promise<void> {
    const base = this.plan.urls[s.urlIndex % this.plan.urls.length].replace(/^http/, 'ws');
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${base}/api/v1/ws?${this.query(s)}`, { perMessageDeflate: false });
      ws.on('open', () => {
        s.open = true;
        s.close = () => ws.terminate();
        resolve();
      });
      ws.on('message', (raw) => {
        const at = nowMs();
        const msg = JSON.parse(raw.toString()) as { type: string; payload?: { eventType?: string; eventId?: string; data?: unknown } };
        if (msg.type === 'event' && msg.payload?.eventType === 'message.sent')
          this.onEvent(s, msg.payload.eventId ?? '', msg.payload.data, at);
      });
      ws.on('error', (err) => {
        if (!s.open) reject(err);
      });
      ws.on('close', () => this.dropped(s));
    });
  }

  /** A stream that ended: with `reconnect`, resume on the next URL from the last id received. */
  private dropped(s: Sub): void {
    if (!s.open) return;
    s.open = false;
    if (this.closing || !this.plan.reconnect) return;
    const retry = async (): Promise<void> => {
      for (let attempt = 0; attempt < 50 && !this.closing; attempt++) {
        s.urlIndex++;
        s.reconnects++;
        try {
          return await this.connect(s);
        } catch {
          await sleep(100);
        }
      }
    };
    void retry();
  }

  stats(opts: { ids?: boolean }): PoolStats {
    return {
      open: this.subs.filter((s) => s.open).length,
      received: this.subs.reduce((n, s) => n + s.received, 0),
      notIncreasing: this.subs.reduce((n, s) => n + s.notIncreasing, 0),
      reconnects: this.subs.reduce((n, s) => n + s.reconnects, 0),
      latency: this.latency.encode(),
      connections: this.subs.map((s) => ({
        companion: s.companion,
        received: s.received,
        notIncreasing: s.notIncreasing,
        reconnects: s.reconnects,
        ids: opts.ids ? s.ids : undefined,
      })),
    };
  }

  reset(): void {
    this.latency = Latency.create();
    for (const s of this.subs) {
      s.received = 0;
      s.notIncreasing = 0;
      s.reconnects = 0;
      if (s.ids) s.ids = [];
    }
  }

  close(): void {
    this.closing = true;
    for (const s of this.subs) s.close();
    this.subs = [];
  }
}

const pool = new Pool();
const methods = {
  open: (p: PoolPlan) => pool.open(p),
  stats: (o: { ids?: boolean }) => pool.stats(o),
  reset: (_: void) => pool.reset(),
  close: (_: void) => pool.close(),
};
export type PoolMethods = typeof methods;
if (process.send) serve(methods);
