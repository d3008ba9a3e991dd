import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { WebSocketServer, type WebSocket } from 'ws';
import { eventIdFromStreamId } from '../../src/common/ids.js';
import { nowMs } from '../../test/support/time.js';
import { benchEvent } from '../lib/events.js';
import { serve } from '../lib/rpc.js';
import { openLoop } from '../lib/schedule.js';

/**
 * The fanout baseline: a bare node:http server holding the same SSE (and `ws` WebSocket) connections, writing each
 * event straight to the subscribers of its companion in a fixed-rate loop. No log, no Redis, no auth, no framework.
 */
interface Subscribers {
  sse: Set<http.ServerResponse>;
  ws: Set<WebSocket>;
}

const byCompanion = new Map<string, Subscribers>();
const subsOf = (c: string): Subscribers => {
  let s = byCompanion.get(c);
  if (!s) byCompanion.set(c, (s = { sse: new Set(), ws: new Set() }));
  return s;
};
let server: http.Server | undefined;

async function start(_: void): Promise<{ url: string; pid: number }> {
  server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    if (u.pathname !== '/api/v1/events/stream') return void res.writeHead(404).end();
    const subs = subsOf(u.searchParams.get('companions') ?? '');
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.write(': connected\n\n');
    subs.sse.add(res);
    req.on('close', () => subs.sse.delete(res));
  });
  const wss = new WebSocketServer({ server, path: '/api/v1/ws', perMessageDeflate: false });
  wss.on('connection', (ws, req) => {
    const subs = subsOf(new URL(req.url ?? '/', 'http://x').searchParams.get('companions') ?? '');
    subs.ws.add(ws);
    ws.on('close', () => subs.ws.delete(ws));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', 4096, resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, pid: process.pid };
}

let seq = 0;

export interface WriteLoopPlan {
  rate: number;
  seconds: number;
  companions: string[];
  /** Events written back to back per tick (like one published batch); default 1. */
  batch?: number;
}

export interface WriteLoopOutcome {
  events: number;
  perCompanion: Record<string, number>;
  /** This process's event-loop delay during the loop (monitorEventLoopDelay, 10 ms resolution as the app's metric). */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

/** Writes `rate` events/s for `seconds`, cycling through `companions`; returns how many events each companion got. */
async function writeLoop(p: WriteLoopPlan): Promise<WriteLoopOutcome> {
  const perCompanion: Record<string, number> = {};
  const batch = p.batch ?? 1;
  const ticks = Math.max(1, Math.round((p.rate * p.seconds) / batch));
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  await openLoop(ticks, (batch * 1000) / p.rate, nowMs(), (_k, scheduled) => {
    for (let i = 0; i < batch; i++) {
      const s = seq++;
      const companion = p.companions[s % p.companions.length];
      const e = benchEvent(s, scheduled, companion);
      const id = eventIdFromStreamId(`${Math.floor(scheduled)}-${s}`);
      const data = JSON.stringify({ ...e.data, timestamp: new Date().toISOString() });
      const sse = `event: ${e.type}\nid: ${id}\ndata: ${data}\n\n`;
      const ws = `{"type":"event","payload":{"eventType":"${e.type}","eventId":"${id}","data":${data}}}`;
      const subs = subsOf(companion);
      for (const res of subs.sse) res.write(sse);
      for (const w of subs.ws) w.send(ws);
      perCompanion[companion] = (perCompanion[companion] ?? 0) + 1;
    }
  });
  delay.disable();
  const ms = (ns: number) => Math.round(ns / 1e4) / 100;
  return { events: ticks * batch, perCompanion, loopDelayP99Ms: ms(delay.percentile(99)), loopDelayMaxMs: ms(delay.max) };
}

const methods = { start, writeLoop };
export type BareStreamMethods = typeof methods;
if (process.send) serve(methods);
