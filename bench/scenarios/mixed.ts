import { BOOTSTRAP_KEY } from '../../test/support/launcher.js';
import { sleep } from '../../test/support/time.js';
import type { BenchOptions } from '../args.js';
import { cpuMeter, cpuPer1000 } from '../lib/cpu.js';
import { Latency } from '../lib/histogram.js';
import { perSec, progress, scenarioLine, type ScenarioLine } from '../lib/report.js';
import { LoadProcess } from '../lib/rpc.js';
import { BENCH_WEBHOOK_SECRET, dlqEntries, waitDeliveries } from '../lib/webhooks.js';
import type { BareStreamMethods } from '../load/bare-stream.js';
import type { BullBaselineMethods } from '../load/bullmq-baseline.js';
import type { PublisherMethods } from '../load/publisher.js';
import type { ReceiverMethods } from '../load/receiver.js';
import { withStack } from './context.js';
import { closePools, collectFanout, openPools, resetPools, type Pools } from './fanout.js';
import { setUpWebhooks } from './webhooks.js';

const load = (file: string) => new URL(`../load/${file}`, import.meta.url);

async function resetAll(receiver: LoadProcess<ReceiverMethods>, pools: Pools): Promise<void> {
  await Promise.all([receiver.call('reset', undefined), resetPools(pools)]);
}

/**
 * `mixed`: one fixed publish rate feeding webhooks and live subscribers at once. Events cycle through one companion per
 * webhook; webhook i filters on companion i (each event → 1 delivery) and the subscribers spread over the same
 * companions (each event → subscribers/webhooks connections). Latency = arrival (receiver or subscriber) − scheduled
 * publish time. Baseline: the bare BullMQ pipeline and the bare SSE/ws write loop running together at the same rate.
 */
export async function mixedScenario(o: BenchOptions): Promise<ScenarioLine> {
  const rate = o.rate ?? 1000;
  const hooks = o.webhooks ?? 50;
  const subscribers = o.subscribers ?? (o.quick ? 200 : 500);
  const companions = Array.from({ length: hooks }, (_, i) => `comp-${i}`);
  return withStack(o, async (stack) => {
    const receiver = LoadProcess.start<ReceiverMethods>(load('receiver.js'), 'receiver');
    const gen = LoadProcess.start<PublisherMethods>(load('publisher.js'), 'publisher');
    let pools: Pools | undefined;
    try {
      const run = await setUpWebhooks(stack, receiver, hooks, (i) => ({ filters: { companionId: [`comp-${i}`] } }));
      pools = await openPools(stack.apiUrls(), subscribers, companions);
      const target = { urls: stack.apiUrls(), apiKey: BOOTSTRAP_KEY, batch: o.batch ?? 10, companions, collectIds: false, maxInFlight: 32 };
      progress(`mixed: ${rate} events/s → ${hooks} filtered webhooks + ${subscribers} SSE/WS subscribers, ${o.seconds} s`);
      const warm = await gen.call('fixedRate', { ...target, rate, seconds: 1 });
      await waitDeliveries(receiver, warm.acked);
      await resetAll(receiver, pools);

      const cpu = cpuMeter({
        ...(await stack.pids()),
        receiver: receiver.pid,
        ssePool: pools.sse.pid,
        wsPool: pools.ws.pid,
        loadgen: gen.pid,
      });
      const fixed = await gen.call('fixedRate', { ...target, rate, seconds: o.seconds });
      const [hooked, streamed] = await Promise.all([waitDeliveries(receiver, fixed.acked), collectFanout(pools, fixed.perCompanion)]);
      const cpuUsed = cpu();
      const dead = (await dlqEntries(stack.apiUrls()[0], BOOTSTRAP_KEY)).length;
      await closePools(pools);
      pools = undefined;
      const webhookLatency = Latency.decode(hooked.latency);
      const all = Latency.merge([hooked.latency, streamed.latency.encode()]);
      const publish = Latency.decode(fixed.latency);

      const base = await mixedBaseline(
        stack.redis.url,
        stack.keys.bench('bull'),
        receiver,
        run.hookUrls,
        rate,
        o.seconds,
        subscribers,
        companions,
      );
      return scenarioLine(
        'mixed',
        { events: fixed.acked, seconds: o.seconds, latency: all },
        fixed.acked - hooked.unique + streamed.lost,
        'bare BullMQ pipeline (1 signed POST per event) + bare SSE/ws write loop, together at the same rate',
        { events: base.events, seconds: o.seconds, latency: base.latency },
        {
          rate,
          webhooks: hooks,
          subscribers,
          latencyOf: 'arrival at the receiver or subscriber - scheduled publish time (webhooks and streams merged)',
          publishP95Ms: publish.percentileMs(95),
          webhookDeliveries: hooked.unique,
          webhookLost: fixed.acked - hooked.unique,
          webhookP50Ms: webhookLatency.percentileMs(50),
          webhookP95Ms: webhookLatency.percentileMs(95),
          webhookP99Ms: webhookLatency.percentileMs(99),
          deadLettered: dead,
          webhookDuplicates: hooked.duplicates,
          streamMessages: streamed.received,
          streamMessagesPerSec: perSec(streamed.received, o.seconds),
          streamLost: streamed.lost,
          streamP50Ms: streamed.latency.percentileMs(50),
          streamP95Ms: streamed.latency.percentileMs(95),
          streamP99Ms: streamed.latency.percentileMs(99),
          cpuMsPer1000Events: cpuPer1000(cpuUsed, fixed.acked),
          othersCpuSeconds: cpuUsed.others,
          baselineWebhookP95Ms: base.webhookP95Ms,
          baselineStreamP95Ms: base.streamP95Ms,
        },
      );
    } finally {
      if (pools) await closePools(pools);
      await Promise.all([gen.stop(), receiver.stop()]);
    }
  });
}

async function mixedBaseline(
  redisUrl: string,
  prefix: string,
  receiver: LoadProcess<ReceiverMethods>,
  hookUrls: string[],
  rate: number,
  seconds: number,
  subscribers: number,
  companions: string[],
) {
  progress('mixed: baseline bare BullMQ pipeline + bare SSE/ws write loop together');
  const bare = LoadProcess.start<BareStreamMethods>(load('bare-stream.js'), 'bare-stream');
  const producer = LoadProcess.start<BullBaselineMethods>(load('bullmq-baseline.js'), 'bullmq-producer');
  const worker = LoadProcess.start<BullBaselineMethods>(load('bullmq-baseline.js'), 'bullmq-worker');
  try {
    const q = { redisUrl, prefix, queue: 'mixed-baseline' };
    await worker.call('work', { ...q, concurrency: 200, secret: BENCH_WEBHOOK_SECRET });
    const { url } = await bare.call('start', undefined);
    const pools = await openPools([url], subscribers, companions);
    await sleep(500);
    await resetAll(receiver, pools);
    const [produced, written] = await Promise.all([
      producer.call('produce', { ...q, urls: hookUrls, cycle: true, rate, seconds }),
      bare.call('writeLoop', { rate, seconds, companions }),
    ]);
    const [hooked, streamed] = await Promise.all([waitDeliveries(receiver, produced.jobs), collectFanout(pools, written.perCompanion)]);
    await closePools(pools);
    await worker.call('stopWork', undefined);
    return {
      events: written.events,
      latency: Latency.merge([hooked.latency, streamed.latency.encode()]),
      webhookP95Ms: Latency.decode(hooked.latency).percentileMs(95),
      streamP95Ms: streamed.latency.percentileMs(95),
    };
  } finally {
    await Promise.all([bare.stop(), producer.stop(), worker.stop()]);
  }
}
