import { readFileSync } from 'node:fs';
import { BOOTSTRAP_KEY } from '../../test/support/launcher.js';
import { sleep } from '../../test/support/time.js';
import type { BenchOptions } from '../args.js';
import { cpuMeter, cpuPer1000 } from '../lib/cpu.js';
import { Latency } from '../lib/histogram.js';
import { perSec, progress, scenarioLine, type ScenarioLine } from '../lib/report.js';
import { LoadProcess } from '../lib/rpc.js';
import type { BareStreamMethods } from '../load/bare-stream.js';
import type { PublisherMethods } from '../load/publisher.js';
import type { ConnectionStats, PoolMethods, Transport } from '../load/subscribers.js';
import { withStack } from './context.js';

const load = (file: string) => new URL(`../load/${file}`, import.meta.url);
/** Default subscribers per companion: each event reaches this many connections (half SSE, half WS). */
const FANOUT_PER_EVENT = 10;

/** Resident memory of a process (Linux /proc). */
function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** Companions for `subscribers` connections so that each event reaches `perEvent` of them. */
function companionsFor(subscribers: number, perEvent = FANOUT_PER_EVENT): string[] {
  return Array.from({ length: Math.max(1, Math.round(subscribers / perEvent)) }, (_, i) => `comp-${i}`);
}

export interface Pools {
  sse: LoadProcess<PoolMethods>;
  ws: LoadProcess<PoolMethods>;
}

/** Half the subscribers over SSE, half over raw WebSocket, each pool in its own process. */
export async function openPools(urls: string[], subscribers: number, companions: string[]): Promise<Pools> {
  const pools = {
    sse: LoadProcess.start<PoolMethods>(load('subscribers.js'), 'sse-pool'),
    ws: LoadProcess.start<PoolMethods>(load('subscribers.js'), 'ws-pool'),
  };
  const open = async (t: Transport, count: number) => {
    const r = await pools[t].call('open', { transport: t, urls, count, apiKey: BOOTSTRAP_KEY, companions });
    if (r.failed) throw new Error(`${r.failed} of ${count} ${t} connections failed`);
  };
  await Promise.all([open('sse', Math.ceil(subscribers / 2)), open('ws', Math.floor(subscribers / 2))]);
  return pools;
}

export async function closePools(p: Pools): Promise<void> {
  await Promise.all([p.sse.call('close', undefined), p.ws.call('close', undefined)]);
  await Promise.all([p.sse.stop(), p.ws.stop()]);
}

export interface FanoutResult {
  received: number;
  expected: number;
  lost: number;
  notIncreasing: number;
  latency: Latency;
}

/**
 * Waits until every subscriber has every event of its companion (or nothing moved for `stallMs`), then accounts.
 * Completion is per connection: a late warm-up event on one connection must not stand in for a missing one on another.
 */
export async function collectFanout(p: Pools, perCompanion: Record<string, number>, stallMs = 5_000): Promise<FanoutResult> {
  const both = async () => Promise.all([p.sse.call('stats', {}), p.ws.call('stats', {})]);
  const got = (c: ConnectionStats) => c.received - c.notIncreasing;
  const missingOf = (conns: ConnectionStats[]) => conns.reduce((n, c) => n + Math.max(0, (perCompanion[c.companion] ?? 0) - got(c)), 0);
  let stats = await both();
  let conns = stats.flatMap((s) => s.connections);
  let last = -1;
  let since = Date.now();
  for (;;) {
    const received = conns.reduce((n, c) => n + got(c), 0);
    if (missingOf(conns) === 0 || Date.now() - since > stallMs) break;
    if (received !== last) {
      last = received;
      since = Date.now();
    }
    await sleep(50);
    stats = await both();
    conns = stats.flatMap((s) => s.connections);
  }
  return {
    received: conns.reduce((n, c) => n + got(c), 0),
    expected: conns.reduce((n, c) => n + (perCompanion[c.companion] ?? 0), 0),
    lost: missingOf(conns),
    notIncreasing: conns.reduce((n, c) => n + c.notIncreasing, 0),
    latency: Latency.merge(stats.map((s) => s.latency)),
  };
}

export async function resetPools(p: Pools): Promise<void> {
  await Promise.all([p.sse.call('reset', undefined), p.ws.call('reset', undefined)]);
}

/** RSS growth of `pid` per connection when `count` idle subscribers (half SSE, half WS) connect to `url`. */
async function idleMemory(
  pid: number,
  url: string,
  count: number,
): Promise<{ connections: number; rssBeforeMB: number; rssAfterMB: number; bytesPerConnection: number }> {
  const before = rssBytes(pid);
  const pools = await openPools([url], count, ['idle-companion']);
  await sleep(1000);
  const after = rssBytes(pid);
  await closePools(pools);
  const mb = (b: number) => Math.round(b / 1024 / 102.4) / 10;
  return { connections: count, rssBeforeMB: mb(before), rssAfterMB: mb(after), bytesPerConnection: Math.round((after - before) / count) };
}

/**
 * `fanout`: SSE + WS subscribers on the API, events published at a fixed rate across companions so each event reaches
 * FANOUT_PER_EVENT subscribers; latency = arrival at the subscriber − scheduled publish time. Then memory with 10,000
 * idle connections. Baseline: a bare node:http SSE (and ws) server writing the same events to the same subscribers.
 */
export async function fanoutScenario(o: BenchOptions): Promise<ScenarioLine> {
  const rate = o.rate ?? 1000;
  const subscribers = o.subscribers ?? (o.quick ? 400 : 2000);
  const idle = o.quick ? 1000 : 10_000;
  const perEvent = Math.min(subscribers, o.perEvent ?? FANOUT_PER_EVENT);
  const companions = companionsFor(subscribers, perEvent);
  return withStack(
    o,
    async (stack) => {
      const api = stack.procs.find((p) => p.role !== 'worker')!;
      const pools = await openPools([api.url], subscribers, companions);
      const gen = LoadProcess.start<PublisherMethods>(load('publisher.js'), 'publisher');
      const target = { urls: [api.url], apiKey: BOOTSTRAP_KEY, batch: o.batch ?? 10, companions, collectIds: false, maxInFlight: 32 };
      try {
        progress(`fanout: ${subscribers} subscribers (SSE+WS), ${rate} events/s × ${perEvent} subscribers each, ${o.seconds} s`);
        await gen.call('fixedRate', { ...target, rate, seconds: 1 });
        await sleep(500);
        await resetPools(pools);
        const cpu = cpuMeter({ ...(await stack.pids()), ssePool: pools.sse.pid, wsPool: pools.ws.pid, loadgen: gen.pid });
        const fixed = await gen.call('fixedRate', { ...target, rate, seconds: o.seconds });
        const res = await collectFanout(pools, fixed.perCompanion);
        const cpuUsed = cpu();
        await closePools(pools);
        progress(`fanout: ${res.received}/${res.expected} received; ${idle} idle connections memory check`);
        const memory = await idleMemory(api.pid!, api.url, idle);
        progress('fanout: baseline bare SSE/ws write loop');
        const base = await bareWriteRun({ rate, seconds: o.seconds, subscribers, companions }, ({ url, pid }) =>
          idleMemory(pid, url, idle),
        );
        return scenarioLine(
          'fanout',
          { events: res.received, seconds: o.seconds, latency: res.latency },
          res.lost,
          'bare node:http SSE + ws write loop to the same subscribers (same rate and fan-out)',
          { events: base.result.received, seconds: o.seconds, latency: base.result.latency },
          {
            unit: 'messages received by subscribers',
            rate,
            subscribers,
            fanoutPerEvent: perEvent,
            eventsPublished: fixed.acked,
            latencyOf: 'arrival at the subscriber - scheduled publish time',
            publishP95Ms: Latency.decode(fixed.latency).percentileMs(95),
            expected: res.expected,
            notIncreasing: res.notIncreasing,
            deliveriesPerSec: perSec(res.received, o.seconds),
            cpuMsPer1000Messages: cpuPer1000(cpuUsed, res.received),
            othersCpuSeconds: cpuUsed.others,
            idle: memory,
            baselineLost: base.result.lost,
            baselineIdle: base.more,
            baselineCpuMsPer1000Messages: base.cpuMsPer1000Messages,
          },
        );
      } finally {
        await gen.stop();
      }
    },
    { env: { MAX_CONNECTIONS_PER_ORG: String(Math.max(20_000, idle * 2)) } },
  );
}

export interface BareWritePlan {
  rate: number;
  seconds: number;
  subscribers: number;
  companions: string[];
  /** Events per write tick (default 1). */
  batch?: number;
}

export interface BareWriteRun {
  result: FanoutResult;
  cpuMsPer1000Messages: Record<string, number>;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

/**
 * The fan-out baseline: a bare SSE/ws server process (bench/load/bare-stream.ts) with `subscribers` fresh connections,
 * written to by its fixed-rate loop after a 1 s warm-up; `more` runs on the same server before it stops.
 */
export async function bareWriteRun<T = undefined>(
  plan: BareWritePlan,
  more?: (at: { url: string; pid: number }) => Promise<T>,
): Promise<BareWriteRun & { more?: T }> {
  const bare = LoadProcess.start<BareStreamMethods>(load('bare-stream.js'), 'bare-stream');
  try {
    const { url, pid } = await bare.call('start', undefined);
    const pools = await openPools([url], plan.subscribers, plan.companions);
    const loopPlan = { rate: plan.rate, companions: plan.companions, batch: plan.batch };
    await bare.call('writeLoop', { ...loopPlan, seconds: 1 });
    await sleep(500);
    await resetPools(pools);
    const cpu = cpuMeter({ bare: pid, ssePool: pools.sse.pid, wsPool: pools.ws.pid });
    const loop = await bare.call('writeLoop', { ...loopPlan, seconds: plan.seconds });
    const result = await collectFanout(pools, loop.perCompanion);
    const cpuMsPer1000Messages = cpuPer1000(cpu(), result.received);
    await closePools(pools);
    return {
      result,
      cpuMsPer1000Messages,
      loopDelayP99Ms: loop.loopDelayP99Ms,
      loopDelayMaxMs: loop.loopDelayMaxMs,
      more: await more?.({ url, pid }),
    };
  } finally {
    await bare.stop();
  }
}
