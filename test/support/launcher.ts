/**
 * The app under test, launched the two ways it runs: in this process (startApp from src/bootstrap.ts, what most tests
 * use), or as `node dist/src/main.js` child processes as `npm start` runs them (roles, log capture, kills and restarts),
 * alone (spawnApp) or as a Stack of several sharing a private Redis and database (the benchmarks and the fault suite).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Cluster, Redis } from 'ioredis';
import pg from 'pg';
import request from 'supertest';
import type { RunningApp } from '../../src/bootstrap.js';
import { freePort } from '../../src/config/redis-bootstrap.js';
import { RedisKeys } from '../../src/redis/keys.js';
import { startPrivateCluster, startPrivateRedis, type PrivateCluster, type PrivateRedis } from './redis.js';
import { nowMs, sleep } from './time.js';

/** The admin token and the org_default API key of every app launched here. */
export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const BOOTSTRAP_KEY = 'hk_test_bootstrap_0123456789abcdef';

export type Role = 'api' | 'worker' | 'all';
/** A Stack's app process: a role, or a worker of one delivery lane (WORKER_LANE), e.g. `worker:overflow`. */
export type ProcessSpec = Role | 'worker:main' | 'worker:overflow';
const servesHttp = (role: Role): boolean => role !== 'worker';

// ---------------------------------------------------------------------------------------------------------------
// Databases

export type DbKind = 'sqlite' | 'postgres';

/** SQLite always; Postgres too when TEST_DATABASE_URL is set (CI sets it). */
export function databases(): DbKind[] {
  return process.env.TEST_DATABASE_URL ? ['sqlite', 'postgres'] : ['sqlite'];
}

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A fresh database per app: a temp SQLite file, or a private schema in TEST_DATABASE_URL. */
export function createTestDatabase(kind: DbKind): TestDatabase {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(path.join(tmpdir(), 'humana-db-'));
    return { url: `sqlite:${path.join(dir, 'test.sqlite')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const base = process.env.TEST_DATABASE_URL!;
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const url = new URL(base);
  url.searchParams.set('schema', schema);
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: base });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// In this process

export interface TestAppOptions {
  db?: DbKind;
  /** Reuse a Redis (several apps on one Redis, or a restart); otherwise a private one is started and owned. */
  redis?: PrivateRedis;
  /** A Redis (Cluster) started by the test (startPrivateCluster): REDIS_URL, not owned; `redis` is then a stand-in. */
  redisUrl?: string;
  /** Reuse a database URL (restart on the same data). */
  databaseUrl?: string;
  env?: Record<string, string>;
}

export interface TestApp {
  url: string;
  running: RunningApp;
  redis: PrivateRedis;
  databaseUrl: string;
  /** supertest bound to the app's URL. */
  http: ReturnType<typeof request>;
  /** Closes the app; removes the Redis and database it created itself. */
  close(): Promise<void>;
  /** Closes only the app (keeps Redis and data) for restart tests. */
  stop(): Promise<void>;
}

/** A Redis this launcher does not manage (a private cluster of the test): stop/start/destroy do nothing. */
function externalRedis(url: string): PrivateRedis {
  const noop = async () => undefined;
  return { url, port: Number(new URL(url).port), dir: '', stop: noop, start: noop, destroy: noop };
}

/** The app in this process (startApp, what `npm start` runs), on a port the OS picks. */
export async function startTestApp(opts: TestAppOptions = {}): Promise<TestApp> {
  // Loaded on first use: the child-process launchers (bench, fault suite) never load the app into their own process.
  const { startApp } = await import('../../src/bootstrap.js');
  const ownRedis = !opts.redis && !opts.redisUrl;
  const redis = opts.redis ?? (opts.redisUrl ? externalRedis(opts.redisUrl) : await startPrivateRedis());
  const ownDb = !opts.databaseUrl;
  const db = opts.databaseUrl ? { url: opts.databaseUrl, drop: async () => undefined } : createTestDatabase(opts.db ?? 'sqlite');
  const release = async () => {
    if (ownDb) await db.drop();
    if (ownRedis) await redis.destroy();
  };
  const running = await startApp({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    REDIS_URL: redis.url,
    DATABASE_URL: db.url,
    ADMIN_TOKEN,
    BOOTSTRAP_API_KEY: BOOTSTRAP_KEY,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...opts.env,
  }).catch(async (err: unknown) => {
    // A start-up that fails must not leave its redis-server running.
    await release();
    throw err;
  });
  const url = running.url!;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await running.close();
  };
  return {
    url,
    running,
    redis,
    databaseUrl: db.url,
    http: request(url),
    stop,
    close: async () => {
      await stop();
      await release();
    },
  };
}

export interface TestOrg {
  id: string;
  key: string;
  auth: { Authorization: string };
}

/** Creates an organization and an all-scopes key through the admin API. */
export async function createOrg(app: TestApp, name = `org-${randomBytes(3).toString('hex')}`, scopes?: string[]): Promise<TestOrg> {
  const org = await app.http.post('/api/v1/admin/organizations').set('Authorization', `Bearer ${ADMIN_TOKEN}`).send({ name }).expect(201);
  const key = await app.http
    .post(`/api/v1/admin/organizations/${org.body.id}/api-keys`)
    .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
    .send(scopes ? { name: 'test', scopes } : { name: 'test' })
    .expect(201);
  return { id: org.body.id as string, key: key.body.key as string, auth: { Authorization: `Bearer ${key.body.key}` } };
}

// ---------------------------------------------------------------------------------------------------------------
// Child processes

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

export interface AppProcessOptions {
  role: Role;
  /** The process's whole environment (nothing is inherited); ROLE and PORT come from these options. */
  env: NodeJS.ProcessEnv;
  /**
   * A fixed port: restarts keep the URL, and the process is ready once it answers HTTP. 0 (the default): the OS picks
   * one, read from the start-up log line (captured output at LOG_LEVEL info or lower).
   */
  port?: number;
  /** Node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];
  /** Append stdout and stderr to this file, none of it through this process (load runs); otherwise kept in `lines`. */
  logFile?: string;
  /** A further readiness check after the HTTP one (e.g. that a worker reads the log). */
  ready?: (proc: AppProcess) => Promise<boolean>;
}

/** One `node dist/src/main.js` process of the app, as `npm start` runs it; restartable on the same port and data. */
export class AppProcess {
  /** Everything it wrote to stdout, line by line (JSON log lines), unless it writes to a log file. */
  readonly lines: string[] = [];
  readonly stderr: string[] = [];
  private child?: ChildProcess;
  /** Resolves once the process exited and its output was read. */
  private closed: Promise<void> = Promise.resolve();
  private isClosed = true;
  private announcedUrl?: string;

  constructor(private readonly opts: AppProcessOptions) {
    if (opts.logFile && !opts.port && servesHttp(opts.role)) throw new Error('an HTTP process that logs to a file needs a fixed port');
  }

  get role(): Role {
    return this.opts.role;
  }

  /** Base URL of an api or all process. */
  get url(): string {
    if (this.opts.port) return `http://127.0.0.1:${this.opts.port}`;
    if (!this.announcedUrl)
      throw new Error(servesHttp(this.role) ? 'the process has not announced its URL yet' : 'a worker process serves no HTTP');
    return this.announcedUrl;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** How the last run ended ("code 1", "SIGKILL"), or "running". */
  get exitStatus(): string {
    if (!this.child || this.running) return 'running';
    return this.child.signalCode ?? `code ${this.child.exitCode}`;
  }

  /**
   * (Re)starts the process and waits until it is ready. A start-up cut short by a signal we did not send is retried
   * once: on this shared machine pids are recycled quickly and a stray signal from elsewhere has been seen.
   */
  async start(timeoutMs = 30_000): Promise<void> {
    if (this.running) throw new Error(`${this.role} process already running`);
    for (let attempt = 1; ; attempt++) {
      const firstLine = this.lines.length;
      this.spawn();
      const deadline = nowMs() + timeoutMs;
      while (!(await this.isReady(firstLine))) {
        if (!this.running) break;
        if (nowMs() > deadline) {
          await this.kill('SIGKILL');
          throw new Error(`${this.role} process not ready after ${timeoutMs} ms; log:\n${this.logTail()}`);
        }
        await sleep(100);
      }
      if (this.running) return;
      await this.closed;
      const status = this.exitStatus;
      if (attempt >= 2 || !status.startsWith('SIG'))
        throw new Error(`${this.role} process exited during start-up (${status}); log:\n${this.logTail()}`);
      process.stderr.write(`[launcher] ${this.role} process got ${status} during start-up (not from us); starting it again\n`);
    }
  }

  /** Spawns the process without waiting for it to serve (start-up failures under test). */
  launch(): void {
    if (this.running) throw new Error(`${this.role} process already running`);
    this.spawn();
  }

  /** Resolves with how the current (or last) run ended. */
  get exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.closed.then(() => ({ code: this.child?.exitCode ?? null, signal: this.child?.signalCode ?? null }));
  }

  /** Sends `signal` (SIGKILL after `graceMs`) and resolves once the process exited. */
  async kill(signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<void> {
    if (this.running) {
      const child = this.child!;
      child.kill(signal);
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await this.closed;
      clearTimeout(t);
    }
    await this.closed;
  }

  /** The first captured stdout line matching `pred`. */
  async waitForLine(pred: (line: string) => boolean, timeoutMs = 20_000): Promise<string> {
    const deadline = nowMs() + timeoutMs;
    for (;;) {
      const hit = this.lines.find(pred);
      if (hit !== undefined) return hit;
      if (this.isClosed)
        throw new Error(`${this.role} process ended (${this.exitStatus}) without a matching log line; log:\n${this.logTail()}`);
      if (nowMs() > deadline) throw new Error(`no matching log line after ${timeoutMs} ms; log:\n${this.logTail()}`);
      await sleep(50);
    }
  }

  /** The last lines of its output (log file or captured). */
  logTail(count = 40): string {
    if (!this.opts.logFile) return [...this.lines, ...this.stderr.join('').split('\n')].slice(-count).join('\n');
    try {
      return readFileSync(this.opts.logFile, 'utf8').split('\n').slice(-count).join('\n');
    } catch {
      return '(no log)';
    }
  }

  private spawn(): void {
    const { role, env, port = 0, nodeArgs = [], logFile } = this.opts;
    const fd = logFile === undefined ? undefined : openSync(logFile, 'a');
    const child = spawn(process.execPath, [...nodeArgs, MAIN], {
      env: { ...env, ROLE: role, PORT: env.PORT ?? String(port) },
      stdio: ['ignore', fd ?? 'pipe', fd ?? 'pipe'],
    });
    if (fd === undefined) this.capture(child);
    else closeSync(fd);
    children.add(child);
    this.child = child;
    this.isClosed = false;
    this.closed = new Promise((resolve) =>
      child.once('close', () => {
        children.delete(child);
        this.isClosed = true;
        resolve();
      }),
    );
  }

  private capture(child: ChildProcess): void {
    let partial = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      const parts = (partial + chunk.toString()).split('\n');
      partial = parts.pop()!;
      this.lines.push(...parts.filter(Boolean));
    });
    child.stderr!.on('data', (chunk: Buffer) => this.stderr.push(chunk.toString()));
  }

  private async isReady(firstLine: number): Promise<boolean> {
    if (servesHttp(this.role)) {
      if (this.opts.port) {
        if ((await httpStatus(`${this.url}/api/v1/event-types`)) !== 200) return false;
      } else {
        const started = this.lines.slice(firstLine).find((l) => l.includes('Humana Events ('));
        const url = started && /on (http:\/\/127\.0\.0\.1:\d+)/.exec(started)?.[1];
        if (!url) return false;
        this.announcedUrl = url;
      }
    }
    return this.opts.ready ? this.opts.ready(this) : true;
  }
}

export interface SpawnOptions {
  /** Wait until it serves (default); false: return at once (start-up failures under test). */
  waitForStart?: boolean;
  /** How long to wait for it (a loaded machine loads the app slowly). */
  startTimeoutMs?: number;
}

/**
 * `npm start` as the tests run it: NODE_ENV=test, the test credentials, `env` on top (ROLE among them), a port the OS
 * picks, output captured in `lines`. Resolves once an HTTP process serves; a worker at once.
 */
export async function spawnApp(env: Record<string, string>, opts: SpawnOptions = {}): Promise<AppProcess> {
  const { ROLE = 'all', ...rest } = env;
  const proc = new AppProcess({
    role: ROLE as Role,
    env: { PATH: process.env.PATH, NODE_ENV: 'test', HOST: '127.0.0.1', ADMIN_TOKEN, BOOTSTRAP_API_KEY: BOOTSTRAP_KEY, ...rest },
  });
  if (opts.waitForStart === false) proc.launch();
  else await proc.start(opts.startTimeoutMs);
  return proc;
}

/** A `ROLE=worker` process on a test app's Redis and database (`env` on top), started as spawnApp starts it. */
export function spawnWorkerOf(app: TestApp, env: Record<string, string> = {}): Promise<AppProcess> {
  return spawnApp({ ROLE: 'worker', REDIS_URL: app.redis.url, DATABASE_URL: app.databaseUrl, LOG_LEVEL: 'warn', ...env });
}

/** GET status code, 0 when the connection fails. */
function httpStatus(url: string, timeoutMs = 2_000): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

// ---------------------------------------------------------------------------------------------------------------
// A stack of app processes

/** A cluster seen as a PrivateRedis: its URL (`?cluster=true`); stop/start of "the" Redis mean nothing on a cluster. */
function clusterStandIn(cluster: PrivateCluster): PrivateRedis {
  const refuse = async () => {
    throw new Error('a cluster stack has no single Redis to stop or start: use stack.cluster (kill, pause)');
  };
  return { url: cluster.url, port: cluster.ports[0], dir: cluster.dir, stop: refuse, start: refuse, destroy: async () => undefined };
}

const REDIS_PREFIX = 'humana';

export interface StackOptions {
  /** One entry per app process, started in this order (the first one runs the migrations). */
  roles: ProcessSpec[];
  env?: Record<string, string>;
  /** Extra node flags for the app processes (e.g. --cpu-prof). */
  nodeArgs?: string[];
  /** On a private Redis Cluster (3 masters, 3 replicas) instead of one redis-server. */
  cluster?: boolean;
}

interface GroupInfo {
  name: string;
  consumers: number;
  pending: number;
  lag: number;
}

/**
 * The app under load: a private redis-server (AOF on) and a temp SQLite file, shared by app processes started as
 * children (NODE_ENV=production, LOG_LEVEL=warn, output appended to one log file, fixed ports). Everything listens on
 * loopback and is removed by stop().
 */
export class Stack {
  private static readonly live = new Set<Stack>();
  readonly procs: AppProcess[] = [];
  readonly admin: Redis | Cluster;
  /** Set when the stack runs on a Redis Cluster (`redis` then only carries its URL: stop/start are refused). */
  readonly cluster?: PrivateCluster;

  private constructor(
    readonly dir: string,
    readonly redis: PrivateRedis,
    private readonly opts: StackOptions,
    cluster?: PrivateCluster,
  ) {
    this.cluster = cluster;
    this.admin = cluster
      ? new Cluster(
          cluster.ports.map((port) => ({ host: '127.0.0.1', port })),
          { redisOptions: { maxRetriesPerRequest: 1 } },
        )
      : new Redis(redis.url, { maxRetriesPerRequest: 1, lazyConnect: false });
    this.admin.on('error', () => undefined);
  }

  static async start(opts: StackOptions): Promise<Stack> {
    const dir = mkdtempSync(path.join(tmpdir(), 'humana-stack-'));
    const cluster = opts.cluster ? await startPrivateCluster() : undefined;
    const stack = new Stack(dir, cluster ? clusterStandIn(cluster) : await startPrivateRedis(), opts, cluster);
    Stack.live.add(stack);
    try {
      for (const role of opts.roles) await stack.add(role);
    } catch (err) {
      await stack.stop();
      throw err;
    }
    return stack;
  }

  /** The app's key registry under the stack's REDIS_PREFIX (bench-only keys: `keys.bench(…)`). */
  readonly keys = new RedisKeys(REDIS_PREFIX);

  apiUrls(): string[] {
    return this.procs.filter((p) => servesHttp(p.role) && p.running).map((p) => p.url);
  }

  /** Starts one more app process and waits until it serves (HTTP), reads the log (worker) or beats (overflow-lane worker). */
  async add(spec: ProcessSpec): Promise<AppProcess> {
    const [role, lane] = spec.split(':') as [Role, string | undefined];
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'production',
      SECRETS_KEY: '0123456789abcdef'.repeat(4),
      HOST: '127.0.0.1',
      REDIS_URL: this.redis.url,
      REDIS_PREFIX,
      DATABASE_URL: `sqlite:${path.join(this.dir, 'app.sqlite')}`,
      BOOTSTRAP_API_KEY: BOOTSTRAP_KEY,
      ADMIN_TOKEN,
      ALLOW_PRIVATE_WEBHOOK_URLS: 'true',
      LOG_LEVEL: 'warn',
      ...this.opts.env,
      ...(lane ? { WORKER_LANE: lane } : {}),
    };
    const proc = new AppProcess({
      role,
      env,
      port: servesHttp(role) ? await freePort() : 0,
      nodeArgs: this.opts.nodeArgs,
      logFile: path.join(this.dir, 'app.log'),
      ready: role !== 'worker' ? undefined : lane === 'overflow' ? (p) => this.beats(p) : (p) => this.readsLog(p),
    });
    this.procs.push(proc);
    await proc.start();
    return proc;
  }

  /** The event log's streams: one per partition (EVENT_LOG_PARTITIONS in the stack's env, default 1). */
  private streams(): string[] {
    const n = Number(this.opts.env?.EVENT_LOG_PARTITIONS ?? 1);
    return Array.from({ length: n }, (_, p) => this.keys.eventLog(this.keys.eventLogTag(p, n)));
  }

  /** A worker reads the log once one of its consumer names (LogConsumer: host-pid-random) is in a group. */
  private async readsLog(proc: AppProcess): Promise<boolean> {
    const marker = `-${proc.pid}-`;
    const [stream] = this.streams();
    for (const g of await this.groupsOf(stream).catch(() => [])) {
      const consumers = (await this.admin.xinfo('CONSUMERS', stream, g.name)) as unknown[][];
      if (consumers.some((c) => String(c[1]).includes(marker))) return true;
    }
    return false;
  }

  /** A worker that reads no log (overflow lane) is up once its delivery-worker heartbeat (host-pid) is in. */
  private async beats(proc: AppProcess): Promise<boolean> {
    const workers = await this.admin.zrange(this.keys.workerHeartbeats(), 0, -1).catch(() => [] as string[]);
    return workers.some((w) => w.endsWith(`-${proc.pid}`));
  }

  /** XINFO GROUPS of the event log, summed over its partitions: lag (entries not yet read) and pending (read, not acknowledged) per reader. */
  private async groups(): Promise<GroupInfo[]> {
    const sums = new Map<string, GroupInfo>();
    for (const stream of this.streams()) {
      for (const g of await this.groupsOf(stream)) {
        const sum = sums.get(g.name);
        if (!sum) sums.set(g.name, g);
        else Object.assign(sum, { consumers: sum.consumers + g.consumers, pending: sum.pending + g.pending, lag: sum.lag + g.lag });
      }
    }
    return [...sums.values()];
  }

  private async groupsOf(stream: string): Promise<GroupInfo[]> {
    const raw = (await this.admin.xinfo('GROUPS', stream)) as unknown[][];
    return raw.map((flat) => {
      const f: Record<string, unknown> = {};
      for (let i = 0; i < flat.length; i += 2) f[String(flat[i])] = flat[i + 1];
      return { name: String(f.name), consumers: Number(f.consumers), pending: Number(f.pending), lag: Number(f.lag ?? 0) };
    });
  }

  /** Entries of the log a consumer group has not finished (lag + pending). */
  private async backlog(group: string): Promise<number> {
    const g = (await this.groups()).find((x) => x.name === group);
    return g ? g.lag + g.pending : Number.POSITIVE_INFINITY;
  }

  /** Polls until the group's backlog is 0; returns the milliseconds it took from `sinceMs`. */
  async waitBacklogZero(group: string, sinceMs: number, timeoutMs = 60_000): Promise<number> {
    const deadline = nowMs() + timeoutMs;
    while ((await this.backlog(group)) > 0) {
      if (nowMs() > deadline)
        throw new Error(`consumer group ${group} still has ${await this.backlog(group)} entries after ${timeoutMs} ms`);
      await sleep(10);
    }
    return nowMs() - sinceMs;
  }

  /** Pids of the app processes (`api0`, `worker1`, …) and of redis-server, for CPU and memory accounting. */
  async pids(): Promise<Record<string, number | undefined>> {
    const procs = Object.fromEntries(this.procs.map((p, i) => [`${p.role}${i}`, p.pid]));
    if (this.cluster) return { ...procs, ...Object.fromEntries(this.cluster.members.map((m, i) => [`redis${i}`, m.child?.pid])) };
    const info = await this.admin.info('server');
    const redis = Number(/process_id:(\d+)/.exec(info)?.[1]);
    return { ...Object.fromEntries(this.procs.map((p, i) => [`${p.role}${i}`, p.pid])), redis };
  }

  /** Stops every stack still running (on Ctrl-C). */
  static async stopAll(): Promise<void> {
    await Promise.all([...Stack.live].map((s) => s.stop()));
  }

  async stop(): Promise<void> {
    Stack.live.delete(this);
    await Promise.all(this.procs.map((p) => p.kill('SIGTERM')));
    this.admin.disconnect();
    await this.redis.destroy();
    await this.cluster?.destroy();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
