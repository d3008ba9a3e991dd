import { BOOTSTRAP_KEY, type Stack } from '../../test/support/launcher.js';
import type { BenchOptions } from '../args.js';
import { cpuMeter, cpuPer1000, cpuUsPerEvent, DELIVERING, REDIS } from '../lib/cpu.js';
import { Latency } from '../lib/histogram.js';
import { againstTarget, progress, ratio, scenarioLine, type ScenarioLine } from '../lib/report.js';
import { LoadProcess } from '../lib/rpc.js';
import { BENCH_WEBHOOK_SECRET, createWebhooks, dlqEntries, drainRate, waitDeliveries, type WebhookSpec } from '../lib/webhooks.js';
import type { BullBaselineMethods } from '../load/bullmq-baseline.js';
import type { PosterMethods, PostOutcome } from '../load/poster.js';
import type { PublisherMethods } from '../load/publisher.js';
import type { ReceiverMethods, ReceiverStats } from '../load/receiver.js';
import { withStack } from './context.js';

const load = (file: string) => new URL(`../load/${file}`, import.meta.url);

export interface WebhookRun {
  /** One receiver URL per webhook, in creation order. */
  hookUrls: string[];
}

/** Starts the receiver process and registers `count` webhooks pointing at it (for the organization of `apiKey`). */
export async function setUpWebhooks(
  stack: Stack,
  receiver: LoadProcess<ReceiverMethods>,
  count: number,
  spec?: (i: number) => WebhookSpec,
  apiKey = BOOTSTRAP_KEY,
  delayMs?: number,
): Promise<WebhookRun> {
  const { url } = await receiver.call('start', { secret: BENCH_WEBHOOK_SECRET, delayMs });
  await createWebhooks(stack.apiUrls()[0], apiKey, url, count, spec);
  return { hookUrls: Array.from({ length: count }, (_, i) => `${url}/hook/${i}`) };
}

/**
 * `webhooks`: events published at a fixed rate, each delivered to N webhooks on a keep-alive receiver in its own
 * process; latency = arrival at the receiver − the event's scheduled publish time. Then a burst for the delivery
 * capacity. Baselines: a bare BullMQ add → process (signed POST) pipeline, and bare signed undici POSTs, same receiver.
 * CPU per delivery of the delivering process(es) and of Redis (from /proc) is set beside the bare loop's CPU per POST
 * (process.cpuUsage in the loop's process), with issue 11's targets: capacity ≥ 0.8× the bare loop's, worker CPU per
 * delivery ≤ 1.5× its CPU per POST (both flat out).
 */
export async function webhooksScenario(o: BenchOptions): Promise<ScenarioLine> {
  const rate = o.rate ?? 1000;
  const hooks = o.webhooks ?? 10;
  const batch = o.batch ?? 10;
  return withStack(o, async (stack) => {
    const receiver = LoadProcess.start<ReceiverMethods>(load('receiver.js'), 'receiver');
    const gen = LoadProcess.start<PublisherMethods>(load('publisher.js'), 'publisher');
    try {
      const run = await setUpWebhooks(stack, receiver, hooks, undefined, BOOTSTRAP_KEY, o.receiverDelayMs);
      const target = { urls: stack.apiUrls(), apiKey: BOOTSTRAP_KEY, batch, companions: ['comp-0'], collectIds: false };
      progress(`webhooks: warm-up, then ${rate} events/s × ${hooks} webhooks for ${o.seconds} s`);
      const warm = await gen.call('fixedRate', { ...target, rate, seconds: 1, maxInFlight: 32 });
      await waitDeliveries(receiver, warm.acked * hooks);
      await receiver.call('reset', undefined);

      const pids = { ...(await stack.pids()), receiver: receiver.pid, loadgen: gen.pid };
      let cpu = cpuMeter(pids);
      const fixed = await gen.call('fixedRate', { ...target, rate, seconds: o.seconds, maxInFlight: 32 });
      const got = await waitDeliveries(receiver, fixed.acked * hooks);
      const fixedCpu = cpu();
      const lost = fixed.acked * hooks - got.unique;
      progress(`webhooks: ${got.unique}/${fixed.acked * hooks} delivered; burst for the delivery capacity`);

      await receiver.call('reset', undefined);
      const burstEvents = Math.max(200, Math.round((rate * o.seconds) / 2));
      cpu = cpuMeter(pids);
      const burst = await gen.call('fixedRate', { ...target, batch: 100, rate: 20_000, seconds: burstEvents / 20_000, maxInFlight: 8 });
      const cap = await waitDeliveries(receiver, burst.acked * hooks);
      const capCpu = cpu();
      const dead = (await dlqEntries(stack.apiUrls()[0], BOOTSTRAP_KEY)).length;

      const base = await webhookBaselines(stack, receiver, run.hookUrls, rate, Math.max(2, o.seconds / 2), burst.acked);
      const capWorkerUs = cpuUsPerEvent(capCpu, cap.unique, DELIVERING);
      return scenarioLine(
        'webhooks',
        { events: got.unique, seconds: (got.lastOkMs - fixed.firstScheduledMs) / 1000, latency: Latency.decode(got.latency) },
        lost,
        'bare BullMQ pipeline: addBulk one job per delivery → Worker → signed node:http POST → same receiver (same rate)',
        base.bull,
        {
          unit: 'deliveries',
          rate,
          webhooks: hooks,
          eventsPublished: fixed.acked,
          latencyOf: 'arrival at the receiver - scheduled publish time',
          publishP95Ms: Latency.decode(fixed.latency).percentileMs(95),
          duplicates: got.duplicates,
          webhookIdMismatches: got.webhookIdMismatches,
          badSignatures: got.badSignatures,
          deadLettered: dead,
          cpuMsPer1000Deliveries: cpuPer1000(fixedCpu, got.unique),
          othersCpuSeconds: fixedCpu.others,
          capacityDeliveriesPerSec: drainRate(cap),
          capacityCpuMsPer1000Deliveries: cpuPer1000(capCpu, cap.unique),
          capacityDeliveries: cap.unique,
          capacityLost: burst.acked * hooks - cap.unique,
          baselineMaxDeliveriesPerSec: base.bullMax,
          ratioCapacity: ratio(drainRate(cap), base.bullMax),
          httpBaselineP50Ms: base.http.latency.percentileMs(50),
          httpBaselineP95Ms: base.http.latency.percentileMs(95),
          httpBaselineP99Ms: base.http.latency.percentileMs(99),
          httpBaselineMaxPostsPerSec: base.httpMax,
          workerCpuUsPerDelivery: cpuUsPerEvent(fixedCpu, got.unique, DELIVERING),
          redisCpuUsPerDelivery: cpuUsPerEvent(fixedCpu, got.unique, REDIS),
          capacityWorkerCpuUsPerDelivery: capWorkerUs,
          capacityRedisCpuUsPerDelivery: cpuUsPerEvent(capCpu, cap.unique, REDIS),
          httpBaselineCpuUsPerPost: base.httpCpuUs,
          httpBaselineMaxCpuUsPerPost: base.httpMaxCpuUs,
          targets: {
            capacityVsBarePost: againstTarget(ratio(drainRate(cap), base.httpMax), '>=', 0.8),
            workerCpuPerDeliveryVsBarePost: againstTarget(ratio(capWorkerUs, base.httpMaxCpuUs), '<=', 1.5),
          },
        },
      );
    } finally {
      await Promise.all([gen.stop(), receiver.stop()]);
    }
  });
}

interface BaselinePhase {
  events: number;
  seconds: number;
  latency: Latency;
}

/** Both webhook baselines at the same rate (latency) and flat out (capacity), against the same receiver. */
async function webhookBaselines(
  stack: Stack,
  receiver: LoadProcess<ReceiverMethods>,
  urls: string[],
  rate: number,
  seconds: number,
  burstEvents: number,
) {
  progress('webhooks: baseline bare signed undici POSTs');
  const poster = LoadProcess.start<PosterMethods>(load('poster.js'), 'poster');
  const measure = async (run: () => Promise<unknown>, expected: () => number): Promise<ReceiverStats> => {
    await receiver.call('reset', undefined);
    await run();
    return waitDeliveries(receiver, expected());
  };
  let posts: PostOutcome = { posted: 0, statuses: {}, seconds: 0, cpuUsPerPost: 0 };
  const httpFixed = await measure(
    async () => (posts = await poster.call('run', { urls, secret: BENCH_WEBHOOK_SECRET, rate, seconds, concurrency: 256 })),
    () => posts.posted,
  );
  const httpCpuUs = posts.cpuUsPerPost;
  const httpMaxRun = await measure(
    async () => (posts = await poster.call('run', { urls, secret: BENCH_WEBHOOK_SECRET, seconds, concurrency: 64 })),
    () => posts.posted,
  );
  const httpMaxCpuUs = posts.cpuUsPerPost;
  await poster.stop();

  progress('webhooks: baseline bare BullMQ pipeline');
  const producer = LoadProcess.start<BullBaselineMethods>(load('bullmq-baseline.js'), 'bullmq-producer');
  const worker = LoadProcess.start<BullBaselineMethods>(load('bullmq-baseline.js'), 'bullmq-worker');
  const q = { redisUrl: stack.redis.url, prefix: stack.keys.bench('bull'), queue: 'baseline' };
  await worker.call('work', { ...q, concurrency: 200, secret: BENCH_WEBHOOK_SECRET });
  let jobs = 0;
  const bullFixed = await measure(
    async () => (jobs = (await producer.call('produce', { ...q, urls, rate, seconds })).jobs),
    () => jobs,
  );
  const bullBurst = await measure(
    async () => (jobs = (await producer.call('produce', { ...q, urls, rate: 20_000, seconds: burstEvents / 20_000 })).jobs),
    () => jobs,
  );
  await worker.call('stopWork', undefined);
  await Promise.all([producer.stop(), worker.stop()]);

  const phase = (s: ReceiverStats): BaselinePhase => ({
    events: s.unique,
    seconds: (s.lastOkMs - s.firstOkMs) / 1000,
    latency: Latency.decode(s.latency),
  });
  return {
    http: phase(httpFixed),
    httpMax: drainRate(httpMaxRun),
    httpCpuUs,
    httpMaxCpuUs,
    bull: phase(bullFixed),
    bullMax: drainRate(bullBurst),
  };
}
