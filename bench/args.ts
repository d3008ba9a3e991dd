import { parseArgs } from 'node:util';
import type { ProcessSpec } from '../test/support/launcher.js';

export const SCENARIOS = ['publish', 'webhooks', 'fanout', 'mixed', 'fairness', 'broadcast', 'amqp'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];
/** What runs without --scenario: `amqp` needs a RabbitMQ, so it is asked for by name. */
export const DEFAULT_SCENARIOS: ScenarioName[] = ['publish', 'webhooks', 'fanout', 'mixed', 'fairness', 'broadcast'];

export interface BenchOptions {
  scenarios: ScenarioName[];
  /** Measured seconds per scenario (default 10; --quick 3). */
  seconds: number;
  quick: boolean;
  /** Overrides of each scenario's default publish rate (events/s), batch size, webhook and subscriber counts. */
  rate?: number;
  batch?: number;
  webhooks?: number;
  subscribers?: number;
  /** Subscribers each fanout event reaches (they share its companion filter); default 10. */
  perEvent?: number;
  /**
   * App processes under test, e.g. ["api", "worker"], ["all"] or ["api", "worker:main", "worker:overflow"]; unset: each
   * scenario's default (api,worker; fairness: one worker per delivery lane).
   */
  roles?: ProcessSpec[];
  /** Directory for --cpu-prof profiles of the app processes. */
  cpuProfDir?: string;
  /** --cluster: publish and webhooks also run on a private Redis Cluster, beside the single Redis. */
  cluster: boolean;
  /** Every webhook receiver answers after this many ms (a remote endpoint's latency); default 0. */
  receiverDelayMs?: number;
  /** Set for the runs on the cluster (the Stack starts one). */
  onCluster?: boolean;
}

export const USAGE = `npm run bench -- [options]
  --scenario LIST     publish,webhooks,fanout,mixed,fairness,broadcast,amqp (comma-separated; default: all but amqp,
                      which needs RabbitMQ at RABBITMQ_URL)
  --duration SECONDS  measured time per scenario (default 10; --quick: 3)
  --rate N            publish rate in events/s (defaults: publish 10000, webhooks 1000, fanout 1000, mixed 1000,
                      fairness 2000 (the flooding organization's), broadcast 10, amqp 500)
  --batch N           events per POST /events/batch (defaults: publish 100, fairness 50 (flood), others 10)
  --webhooks N        webhook endpoints (defaults: webhooks 10, mixed 50, fairness 5 (flood), amqp 4)
  --subscribers N     real-time subscribers, half SSE half WebSocket (defaults: fanout 2000, broadcast 2000, mixed 500)
  --per-event N       fanout: subscribers each event reaches (default 10; = --subscribers for a broadcast)
  --roles LIST        app processes under test (default api,worker, and api,worker:main,worker:overflow for
                      fairness: one worker per delivery lane, WORKER_LANE; e.g. all or api,api,worker,worker)
  --cpu-prof DIR      write V8 CPU profiles of the app processes to DIR
  --receiver-delay MS webhook receivers answer after MS ms (slow endpoints; webhooks scenario)
  --cluster           publish and webhooks run twice: on one Redis, then on a private Redis Cluster (3 masters + 3 replicas)
  --quick             smoke run: 3 s per scenario, smaller subscriber counts (fanout 400, broadcast 1000, mixed 200)`;

function positive(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got "${v}"`);
  return n;
}

export function parseBenchArgs(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      scenario: { type: 'string' },
      duration: { type: 'string' },
      rate: { type: 'string' },
      batch: { type: 'string' },
      webhooks: { type: 'string' },
      subscribers: { type: 'string' },
      'per-event': { type: 'string' },
      roles: { type: 'string' },
      'cpu-prof': { type: 'string' },
      'receiver-delay': { type: 'string' },
      quick: { type: 'boolean', default: false },
      cluster: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) throw new Error(USAGE);
  const scenarios = (values.scenario ?? DEFAULT_SCENARIOS.join(',')).split(',').map((s) => s.trim());
  for (const s of scenarios)
    if (!(SCENARIOS as readonly string[]).includes(s)) throw new Error(`unknown scenario "${s}" (one of ${SCENARIOS.join(', ')})`);
  const roles = values.roles?.split(',').map((r) => r.trim()) ?? [];
  const specs: readonly string[] = ['api', 'worker', 'all', 'worker:main', 'worker:overflow'];
  for (const r of roles) if (!specs.includes(r)) throw new Error(`unknown role "${r}" (${specs.join(', ')})`);
  if (roles.length && !roles.some((r) => r === 'api' || r === 'all')) throw new Error('--roles needs at least one api or all process');
  if (roles.length && !roles.some((r) => r === 'worker' || r === 'all' || r === 'worker:main'))
    throw new Error('--roles needs at least one worker, worker:main or all process (the matcher)');
  return {
    scenarios: scenarios as ScenarioName[],
    quick: values.quick,
    seconds: positive('duration', values.duration) ?? (values.quick ? 3 : 10),
    rate: positive('rate', values.rate),
    batch: positive('batch', values.batch),
    webhooks: positive('webhooks', values.webhooks),
    subscribers: positive('subscribers', values.subscribers),
    perEvent: positive('per-event', values['per-event']),
    roles: roles.length ? (roles as ProcessSpec[]) : undefined,
    cpuProfDir: values['cpu-prof'],
    cluster: values.cluster,
    receiverDelayMs: positive('receiver-delay', values['receiver-delay']),
  };
}
