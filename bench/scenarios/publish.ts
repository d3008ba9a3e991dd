import { BOOTSTRAP_KEY, type Stack } from '../../test/support/launcher.js';
import type { BenchOptions } from '../args.js';
import { historyIds, missingIds } from '../lib/accounting.js';
import { cpuMeter, cpuPer1000 } from '../lib/cpu.js';
import { Latency } from '../lib/histogram.js';
import { perSec, progress, scenarioLine, type ScenarioLine } from '../lib/report.js';
import { LoadProcess } from '../lib/rpc.js';
import type { PublishOutcome, PublisherMethods } from '../load/publisher.js';
import type { XaddMethods } from '../load/xadd.js';
import { withStack } from './context.js';

const PUBLISHER = new URL('../load/publisher.js', import.meta.url);
const XADD = new URL('../load/xadd.js', import.meta.url);
const CONCURRENCY = 8;

const secondsOf = (o: PublishOutcome): number => (o.lastReplyMs - o.firstScheduledMs) / 1000;

/**
 * `publish`: POST /events/batch at a fixed rate (latency from each batch's scheduled time), then how long the history
 * writer needs to drain its backlog once the load stops, then a closed-loop saturation run for the capacity.
 * Baseline: bare XADD pipelining from one client, at the same rate and then flat out.
 */
export async function publishScenario(o: BenchOptions): Promise<ScenarioLine> {
  const rate = o.rate ?? 10_000;
  const batch = o.batch ?? 100;
  return withStack(o, async (stack) => {
    const gen = LoadProcess.start<PublisherMethods>(PUBLISHER, 'publisher');
    try {
      const target = { urls: stack.apiUrls(), apiKey: BOOTSTRAP_KEY, batch, companions: ['comp-0'], collectIds: true };
      progress(
        `publish: warm-up, then ${rate} events/s for ${o.seconds} s in batches of ${batch} (${stack.procs.map((p) => p.role).join('+')})`,
      );
      const warm = await gen.call('fixedRate', { ...target, rate, seconds: o.quick ? 0.5 : 1, maxInFlight: 64 });
      await stack.waitBacklogZero('history', 0);
      const cpu = cpuMeter({ ...(await stack.pids()), loadgen: gen.pid });
      const fixed = await gen.call('fixedRate', { ...target, rate, seconds: o.seconds, maxInFlight: 64 });
      const catchUpMs = await stack.waitBacklogZero('history', fixed.lastReplyMs);
      const cpuUsed = cpu();
      progress(`publish: history backlog drained ${Math.round(catchUpMs)} ms after the last reply; saturation run`);
      const sat = await gen.call('closedLoop', { ...target, seconds: Math.max(2, o.seconds / 2), concurrency: CONCURRENCY });
      await stack.waitBacklogZero('history', 0);
      const lost = await lostFromHistory(stack, [warm, fixed, sat]);

      progress('publish: baseline (bare XADD pipelining)');
      const xadd = LoadProcess.start<XaddMethods>(XADD, 'xadd-baseline');
      const plan = { redisUrl: stack.redis.url, stream: stack.keys.bench('xadd-baseline'), batch, concurrency: CONCURRENCY };
      const baseFixed = await xadd.call('run', { ...plan, rate, seconds: Math.max(2, o.seconds / 2) });
      const baseMax = await xadd.call('run', { ...plan, seconds: Math.max(2, o.seconds / 2) });
      await xadd.stop();

      const satSeconds = secondsOf(sat);
      return scenarioLine(
        'publish',
        { events: fixed.acked, seconds: secondsOf(fixed), latency: Latency.decode(fixed.latency) },
        lost,
        'bare XADD pipelining from one ioredis client (same rate and batch size)',
        { events: baseFixed.events, seconds: baseFixed.seconds, latency: Latency.decode(baseFixed.latency) },
        {
          rate,
          batch,
          roles: stack.procs.map((p) => p.role).join(','),
          latencyOf: 'POST /events/batch reply time - scheduled send time',
          non202Batches: Object.entries(fixed.statuses)
            .filter(([s]) => s !== '202')
            .reduce((n, [, c]) => n + c, 0),
          historyCatchUpMs: Math.round(catchUpMs),
          cpuSeconds: cpuUsed,
          cpuMsPer1000Events: cpuPer1000(cpuUsed, fixed.acked),
          saturationEventsPerSec: perSec(sat.acked, satSeconds),
          saturationP95Ms: Latency.decode(sat.latency).percentileMs(95),
          baselineMaxEventsPerSec: perSec(baseMax.events, baseMax.seconds),
          ratioMaxEventsPerSec: Math.round((perSec(sat.acked, satSeconds) / perSec(baseMax.events, baseMax.seconds)) * 1000) / 1000,
        },
      );
    } finally {
      await gen.stop();
    }
  });
}

/** Acknowledged events missing from the SQL history once the writer has caught up. */
async function lostFromHistory(stack: Stack, outcomes: PublishOutcome[]): Promise<number> {
  const present = await historyIds(stack.apiUrls()[0], BOOTSTRAP_KEY);
  const missing = missingIds(
    outcomes.flatMap((o) => o.ids),
    present,
  );
  if (missing.length)
    progress(`publish: ${missing.length} acknowledged events missing from history, e.g. ${missing.slice(0, 3).join(', ')}`);
  return missing.length;
}
