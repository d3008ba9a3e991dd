import { nowMs } from '../../test/support/time.js';
import type { BenchOptions } from '../args.js';
import { cpuMeter, cpuPer1000 } from '../lib/cpu.js';
import { Latency } from '../lib/histogram.js';
import { createOrganization } from '../lib/orgs.js';
import { againstTarget, perSec, progress, ratio, scenarioLine, type ScenarioLine } from '../lib/report.js';
import { LoadProcess } from '../lib/rpc.js';
import { dlqEntries, drainRate, waitDeliveries } from '../lib/webhooks.js';
import type { PublisherMethods } from '../load/publisher.js';
import type { ReceiverMethods } from '../load/receiver.js';
import type { ProcessSpec } from '../../test/support/launcher.js';
import { withStack } from './context.js';
import { setUpWebhooks } from './webhooks.js';

const load = (file: string) => new URL(`../load/${file}`, import.meta.url);
/** The quiet organization: single events (batch of 1) at this rate, each to its one webhook. */
const QUIET_RATE = 20;
/** The layout the fairness bound is stated for (docs/delivery-engine.md): one worker per delivery lane. */
const LANES: ProcessSpec[] = ['api', 'worker:main', 'worker:overflow'];

/**
 * `fairness` (issue 11): a quiet organization publishes QUIET_RATE events/s, each to its own webhook, first alone,
 * then while a second organization floods `rate` events/s (default 2,000) to its own `webhooks` webhooks (default 5:
 * 10,000 deliveries/s offered, more than this box delivers, so the flood's backlog grows). Each organization has its
 * own key (admin API) and its own receiver process. Latency = arrival at the quiet organization's receiver − scheduled
 * publish time. Baseline: the quiet organization's p95 alone in the same run; target: beside the flood, within 2×.
 * Processes: an API and one worker per delivery lane (LANES) unless --roles says otherwise.
 */
export async function fairnessScenario(o: BenchOptions): Promise<ScenarioLine> {
  const floodRate = o.rate ?? 2000;
  const floodHooks = o.webhooks ?? 5;
  const floodBatch = o.batch ?? 50;
  return withStack(
    o,
    async (stack) => {
      const api = stack.apiUrls()[0];
      const quiet = await createOrganization(api, 'bench-quiet');
      const flood = await createOrganization(api, 'bench-flood');
      const quietRx = LoadProcess.start<ReceiverMethods>(load('receiver.js'), 'quiet-receiver');
      const floodRx = LoadProcess.start<ReceiverMethods>(load('receiver.js'), 'flood-receiver');
      const quietGen = LoadProcess.start<PublisherMethods>(load('publisher.js'), 'quiet-publisher');
      const floodGen = LoadProcess.start<PublisherMethods>(load('publisher.js'), 'flood-publisher');
      try {
        await setUpWebhooks(stack, quietRx, 1, undefined, quiet.key);
        await setUpWebhooks(stack, floodRx, floodHooks, undefined, flood.key);
        const common = { urls: stack.apiUrls(), collectIds: false };
        const quietPlan = { ...common, apiKey: quiet.key, batch: 1, companions: ['comp-quiet'], rate: QUIET_RATE, maxInFlight: 16 };
        const floodPlan = { ...common, apiKey: flood.key, batch: floodBatch, companions: ['comp-flood'], rate: floodRate, maxInFlight: 32 };
        const resetReceivers = () => Promise.all([quietRx.call('reset', undefined), floodRx.call('reset', undefined)]);

        progress(`fairness: warm-up of both organizations, then the quiet one (${QUIET_RATE} events/s) alone for ${o.seconds} s`);
        const [wq, wf] = await Promise.all([
          quietGen.call('fixedRate', { ...quietPlan, seconds: 1 }),
          floodGen.call('fixedRate', { ...floodPlan, rate: Math.min(floodRate, 200), seconds: 1 }),
        ]);
        await Promise.all([waitDeliveries(quietRx, wq.acked), waitDeliveries(floodRx, wf.acked * floodHooks)]);
        await resetReceivers();
        const alone = await quietGen.call('fixedRate', { ...quietPlan, seconds: o.seconds });
        const aloneGot = await waitDeliveries(quietRx, alone.acked);
        await resetReceivers();

        progress(`fairness: the quiet organization beside a flood of ${floodRate} events/s × ${floodHooks} webhooks for ${o.seconds} s`);
        const cpu = cpuMeter({
          ...(await stack.pids()),
          quietReceiver: quietRx.pid,
          floodReceiver: floodRx.pid,
          quietLoadgen: quietGen.pid,
          floodLoadgen: floodGen.pid,
        });
        const startAtMs = nowMs() + 100;
        const [beside, flooded] = await Promise.all([
          quietGen.call('fixedRate', { ...quietPlan, seconds: o.seconds, startAtMs }),
          floodGen.call('fixedRate', { ...floodPlan, seconds: o.seconds, startAtMs }),
        ]);
        const floodExpected = flooded.acked * floodHooks;
        const floodGot = await waitDeliveries(floodRx, floodExpected);
        const besideGot = await waitDeliveries(quietRx, beside.acked);
        const cpuUsed = cpu();
        const dead = (await dlqEntries(api, quiet.key)).length + (await dlqEntries(api, flood.key)).length;

        const quietBeside = Latency.decode(besideGot.latency);
        const quietAlone = Latency.decode(aloneGot.latency);
        const floodLatency = Latency.decode(floodGot.latency);
        const quietLost = beside.acked - besideGot.unique;
        const floodLost = floodExpected - floodGot.unique;
        const p95Ratio = ratio(quietBeside.percentileMs(95), quietAlone.percentileMs(95));
        return scenarioLine(
          'fairness',
          { events: besideGot.unique, seconds: o.seconds, latency: quietBeside },
          quietLost + floodLost,
          `the quiet organization alone (${QUIET_RATE} events/s, 1 webhook), same run`,
          { events: aloneGot.unique, seconds: o.seconds, latency: quietAlone },
          {
            unit: "the quiet organization's deliveries",
            latencyOf: 'arrival at the receiver - scheduled publish time',
            roles: (o.roles ?? LANES).join(','),
            quietRate: QUIET_RATE,
            floodRate,
            floodWebhooks: floodHooks,
            floodBatch,
            quietLost,
            quietAloneLost: alone.acked - aloneGot.unique,
            quietPublishP95Ms: Latency.decode(beside.latency).percentileMs(95),
            quietAlonePublishP95Ms: Latency.decode(alone.latency).percentileMs(95),
            floodEventsPublished: flooded.acked,
            floodEventsPerSec: perSec(flooded.acked, o.seconds),
            floodNon202Batches: Object.entries(flooded.statuses)
              .filter(([s]) => s !== '202')
              .reduce((n, [, c]) => n + c, 0),
            floodDeliveries: floodGot.unique,
            floodDeliveriesPerSec: drainRate(floodGot),
            floodLost,
            floodP50Ms: floodLatency.percentileMs(50),
            floodP95Ms: floodLatency.percentileMs(95),
            duplicates: besideGot.duplicates + floodGot.duplicates,
            deadLettered: dead,
            cpuMsPer1000Deliveries: cpuPer1000(cpuUsed, floodGot.unique + besideGot.unique),
            othersCpuSeconds: cpuUsed.others,
            targets: { quietP95BesideFloodVsAlone: againstTarget(p95Ratio, '<=', 2) },
          },
        );
      } finally {
        await Promise.all([quietGen.stop(), floodGen.stop(), quietRx.stop(), floodRx.stop()]);
      }
    },
    { roles: o.roles ?? LANES },
  );
}
