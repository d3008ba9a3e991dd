import { loadavg } from 'node:os';
import { Stack } from '../test/support/launcher.js';
import { parseBenchArgs, type BenchOptions, type ScenarioName } from './args.js';
import { progress, type ScenarioLine } from './lib/report.js';
import { amqpScenario } from './scenarios/amqp.js';
import { broadcastScenario } from './scenarios/broadcast.js';
import { fairnessScenario } from './scenarios/fairness.js';
import { fanoutScenario } from './scenarios/fanout.js';
import { mixedScenario } from './scenarios/mixed.js';
import { publishScenario } from './scenarios/publish.js';
import { webhooksScenario } from './scenarios/webhooks.js';

/** The scenarios `--cluster` runs a second time on a Redis Cluster. */
const ON_CLUSTER: readonly ScenarioName[] = ['publish', 'webhooks'];

const SCENARIO_RUNNERS: Record<ScenarioName, (o: BenchOptions) => Promise<ScenarioLine>> = {
  publish: publishScenario,
  webhooks: webhooksScenario,
  fanout: fanoutScenario,
  mixed: mixedScenario,
  fairness: fairnessScenario,
  broadcast: broadcastScenario,
  amqp: amqpScenario,
};

async function main(): Promise<void> {
  let opts: BenchOptions;
  try {
    opts = parseBenchArgs(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
  let failed = false;
  const runs = opts.scenarios.flatMap((name) => [
    { name, o: opts },
    ...(opts.cluster && ON_CLUSTER.includes(name) ? [{ name, o: { ...opts, onCluster: true } }] : []),
  ]);
  for (const { name, o } of runs) {
    // Other work on the machine disturbs the figures: every line says how busy it was when the scenario started.
    const loadAvg1m = Math.round(loadavg()[0] * 100) / 100;
    try {
      const line = await SCENARIO_RUNNERS[name](o);
      process.stdout.write(
        `${JSON.stringify({ ...line, ...(opts.cluster ? { redis: o.onCluster ? 'cluster' : 'single' } : {}), loadAvg1m })}\n`,
      );
    } catch (err) {
      failed = true;
      progress(`${name}${o.onCluster ? ' (cluster)' : ''} failed: ${(err as Error).stack ?? err}`);
    }
  }
  process.exit(failed ? 1 : 0);
}

process.once('SIGINT', () => {
  progress('interrupted: stopping the app processes and their redis-server');
  void Stack.stopAll().finally(() => process.exit(130));
});
void main();
