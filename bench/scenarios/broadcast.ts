import { BOOTSTRAP_KEY } from '../../test/support/launcher.js';
import { nowMs, sleep } from '../../test/support/time.js';
import type { BenchOptions } from '../args.js';
import { cpuMeter, cpuPer1000 } from '../lib/cpu.js';
import { scrapeEventLoopDelay } from '../lib/event-loop.js';
import { Latency } from '../lib/histogram.js';
import { perSec, progress, ratio, scenarioLine, type ScenarioLine } from '../lib/report.js';
import { LoadProcess } from '../lib/rpc.js';
import type { PublisherMethods } from '../load/publisher.js';
import { withStack } from './context.js';
import { bareWriteRun, closePools, collectFanout, openPools, resetPools, type Pools } from './fanout.js';

const load = (file: string) => new URL(`../load/${file}`, import.meta.url);
/** The light publish loop beside the broadcast: single events at this rate, to a companion nobody subscribes to. */
const LIGHT_RATE = 50;
const BROADCAST = ['comp-broadcast'];

/**
 * `broadcast` (issue 14, item 4): one API process holds `subscribers` SSE + WS connections (default 2,000, half each,
 * in two load processes), all on one companion; batches of `batch` events (default 10) at `rate` events/s (default 10)
 * each dispatch to every one of them. A separate light loop publishes LIGHT_RATE single events/s to the same API,
 * first alone, then beside the broadcast. Reports the API's event-loop delay p99 (its Prometheus metric, reset by a
 * scrape right before each phase), the broadcast delivery p95 and the light loop's publish p95 in both phases.
 * Baseline: the bare SSE/ws write loop to the same number of sockets, writing the same batches.
 */
export async function broadcastScenario(o: BenchOptions): Promise<ScenarioLine> {
  const rate = o.rate ?? 10;
  const batch = o.batch ?? 10;
  const subscribers = o.subscribers ?? (o.quick ? 1000 : 2000);
  return withStack(o, async (stack) => {
    const api = stack.procs.find((p) => p.role !== 'worker')!;
    let pools: Pools | undefined = await openPools([api.url], subscribers, BROADCAST);
    const gen = LoadProcess.start<PublisherMethods>(load('publisher.js'), 'broadcast-publisher');
    const light = LoadProcess.start<PublisherMethods>(load('publisher.js'), 'light-publisher');
    try {
      const common = { urls: [api.url], apiKey: BOOTSTRAP_KEY, collectIds: false };
      const broadcastPlan = { ...common, batch, companions: BROADCAST, rate, maxInFlight: 8 };
      const lightPlan = { ...common, batch: 1, companions: ['comp-light'], rate: LIGHT_RATE, maxInFlight: 16 };
      progress(`broadcast: warm-up, then ${LIGHT_RATE} publishes/s alone for ${o.seconds} s on one API process`);
      await Promise.all([gen.call('fixedRate', { ...broadcastPlan, seconds: 1 }), light.call('fixedRate', { ...lightPlan, seconds: 1 })]);
      await sleep(500);
      await scrapeEventLoopDelay(api.url);
      const lightAlone = await light.call('fixedRate', { ...lightPlan, seconds: o.seconds });
      const loopAlone = await scrapeEventLoopDelay(api.url);

      progress(`broadcast: ${rate} events/s in batches of ${batch} to all ${subscribers} subscribers, beside the light loop`);
      await resetPools(pools);
      const cpu = cpuMeter({ ...(await stack.pids()), ssePool: pools.sse.pid, wsPool: pools.ws.pid, loadgen: gen.pid, light: light.pid });
      const startAtMs = nowMs() + 100;
      await scrapeEventLoopDelay(api.url);
      const [sent, lightBeside] = await Promise.all([
        gen.call('fixedRate', { ...broadcastPlan, seconds: o.seconds, startAtMs }),
        light.call('fixedRate', { ...lightPlan, seconds: o.seconds, startAtMs }),
      ]);
      const res = await collectFanout(pools, sent.perCompanion);
      const loopBroadcast = await scrapeEventLoopDelay(api.url);
      const cpuUsed = cpu();
      await closePools(pools);
      pools = undefined;

      progress('broadcast: baseline bare SSE/ws write loop to the same number of sockets');
      const base = await bareWriteRun({ rate, seconds: o.seconds, subscribers, companions: BROADCAST, batch });
      const publishAlone = Latency.decode(lightAlone.latency);
      const publishBeside = Latency.decode(lightBeside.latency);
      return scenarioLine(
        'broadcast',
        { events: res.received, seconds: o.seconds, latency: res.latency },
        res.lost,
        'bare node:http SSE + ws write loop to the same number of sockets, same batches and rate',
        { events: base.result.received, seconds: o.seconds, latency: base.result.latency },
        {
          unit: 'messages received by subscribers',
          latencyOf: 'arrival at the subscriber - scheduled publish time',
          rate,
          batch,
          subscribers,
          eventsPublished: sent.acked,
          messagesPerSec: perSec(res.received, o.seconds),
          notIncreasing: res.notIncreasing,
          apiEventLoopDelayP99Ms: loopBroadcast.p99Ms,
          apiEventLoopDelayMaxMs: loopBroadcast.maxMs,
          apiEventLoopDelayAloneP99Ms: loopAlone.p99Ms,
          apiEventLoopDelayAloneMaxMs: loopAlone.maxMs,
          baselineEventLoopDelayP99Ms: base.loopDelayP99Ms,
          baselineEventLoopDelayMaxMs: base.loopDelayMaxMs,
          lightPublishRate: LIGHT_RATE,
          lightPublishP95Ms: publishBeside.percentileMs(95),
          lightPublishP99Ms: publishBeside.percentileMs(99),
          lightPublishAloneP95Ms: publishAlone.percentileMs(95),
          lightPublishAloneP99Ms: publishAlone.percentileMs(99),
          ratioLightPublishP95: ratio(publishBeside.percentileMs(95), publishAlone.percentileMs(95)),
          cpuMsPer1000Messages: cpuPer1000(cpuUsed, res.received),
          othersCpuSeconds: cpuUsed.others,
          baselineLost: base.result.lost,
          baselineCpuMsPer1000Messages: base.cpuMsPer1000Messages,
        },
      );
    } finally {
      if (pools) await closePools(pools);
      await Promise.all([gen.stop(), light.stop()]);
    }
  });
}
