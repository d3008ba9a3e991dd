import { parseBenchArgs, type BenchOptions, type ScenarioName } from './args.js';
import { progress, type ScenarioLine } from './lib/report.js';
import { publishScenario } from './scenarios/publish.js';

const SCENARIO_RUNNERS: Record<ScenarioName, ((o: BenchOptions) => Promise<ScenarioLine>) | undefined> = {
  publish: publishScenario,
  webhooks: undefined,
  fanout: undefined,
  mixed: undefined,
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
  for (const name of opts.scenarios) {
    const runner = SCENARIO_RUNNERS[name];
    if (!runner) {
      progress(`${name}: not available yet`);
      continue;
    }
    try {
      process.stdout.write(`${JSON.stringify(await runner(opts))}\n`);
    } catch (err) {
      failed = true;
      progress(`${name} failed: ${(err as Error).stack ?? err}`);
    }
  }
  process.exit(failed ? 1 : 0);
}

void main();
