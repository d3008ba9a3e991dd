import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { freePort, redisAnswers } from '../../src/config/redis-bootstrap.js';
import { startPrivateRedis, type PrivateRedis } from '../../test/helpers/redis.js';
import { nowMs, sleep } from './clock.js';

export const BENCH_API_KEY = 'hk_bench_0123456789abcdef';
export const BENCH_ADMIN_TOKEN = 'bench-admin-token-0123456789';
const BENCH_SECRETS_KEY = '0123456789abcdef'.repeat(4);
const REDIS_PREFIX = 'humana';
const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));

export type Role = 'api' | 'worker' | 'all';
const hasHttp = (role: Role): boolean => role !== 'worker';

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

/** One `node dist/src/main.js` process of the app under test, restartable on the same port and data. */
export class AppProcess {
  private child?: ChildProcess;
  private exit?: Promise<void>;

  constructor(
    readonly role: Role,
    readonly port: number,
    private readonly env: NodeJS.ProcessEnv,
    private readonly logFile: string,
    private readonly nodeArgs: string[],
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** How the last run ended ("code 1", "SIGKILL"), or "running". */
  get exitStatus(): string {
    if (!this.child || this.running) return 'running';
    return this.child.signalCode ?? `code ${this.child.exitCode}`;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  spawn(): void {
    const fd = openSync(this.logFile, 'a');
    const child = spawn(process.execPath, [...this.nodeArgs, MAIN], { env: { ...this.env, ROLE: this.role, PORT: String(this.port) }, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    children.add(child);
    this.child = child;
    this.exit = new Promise((resolve) =>
      child.once('exit', () => {
        children.delete(child);
        resolve();
      }),
    );
  }

  /** Sends `signal` and waits for the exit (SIGKILL after `graceMs`). */
  async kill(signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.child!.kill(signal);
    const t = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
    await this.exit;
    clearTimeout(t);
  }
}

export interface StackOptions {
  /** One entry per app process, started in this order (the first one runs the migrations). */
  roles: Role[];
  env?: Record<string, string>;
  /** Extra node flags for the app processes (e.g. --cpu-prof). */
  nodeArgs?: string[];
}

export interface GroupInfo {
  name: string;
  consumers: number;
  pending: number;
  lag: number;
}

/**
 * The app under test: a private redis-server (AOF on) and a temp SQLite file, shared by app processes started as
 * children with LOG_LEVEL=warn. Everything listens on loopback and is removed by stop().
 */
export class Stack {
  private static readonly live = new Set<Stack>();
  readonly procs: AppProcess[] = [];
  readonly admin: Redis;

  private constructor(
    readonly dir: string,
    readonly redis: PrivateRedis,
    private readonly opts: StackOptions,
  ) {
    this.admin = new Redis(redis.url, { maxRetriesPerRequest: 1, lazyConnect: false });
    this.admin.on('error', () => undefined);
  }

  static async start(opts: StackOptions): Promise<Stack> {
    const dir = mkdtempSync(path.join(tmpdir(), 'humana-bench-'));
    const stack = new Stack(dir, await startPrivateRedis(), opts);
    Stack.live.add(stack);
    try {
      for (const role of opts.roles) await stack.add(role);
    } catch (err) {
      await stack.stop();
      throw err;
    }
    return stack;
  }

  get dbFile(): string {
    return path.join(this.dir, 'bench.sqlite');
  }

  get logFile(): string {
    return path.join(this.dir, 'app.log');
  }

  /** Mirrors RedisService.key(): every key of a deployment lives under `{prefix}`. */
  key(...parts: string[]): string {
    return [`{${REDIS_PREFIX}}`, ...parts].join(':');
  }

  get streamKey(): string {
    return this.key('events');
  }

  apiUrls(): string[] {
    return this.procs.filter((p) => hasHttp(p.role) && p.running).map((p) => p.url);
  }

  /** Starts one more app process and waits until it serves (HTTP) or consumes the log (worker). */
  async add(role: Role): Promise<AppProcess> {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'production',
      SECRETS_KEY: BENCH_SECRETS_KEY,
      HOST: '127.0.0.1',
      REDIS_URL: this.redis.url,
      REDIS_PREFIX,
      DATABASE_URL: `sqlite:${this.dbFile}`,
      BOOTSTRAP_API_KEY: BENCH_API_KEY,
      ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
      ALLOW_PRIVATE_WEBHOOK_URLS: 'true',
      LOG_LEVEL: 'warn',
      ...this.opts.env,
    };
    const proc = new AppProcess(role, hasHttp(role) ? await freePort() : 0, env, this.logFile, this.opts.nodeArgs ?? []);
    this.procs.push(proc);
    await this.restart(proc);
    return proc;
  }

  /**
   * (Re)starts a stopped process and waits until it is ready. A start-up cut short by a signal we did not send is
   * retried once: on this shared machine pids are recycled quickly and a stray signal from elsewhere has been seen.
   */
  async restart(proc: AppProcess, timeoutMs = 30_000): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      proc.spawn();
      const deadline = nowMs() + timeoutMs;
      while (!(await this.isReady(proc))) {
        if (!proc.running) break;
        if (nowMs() > deadline) throw new Error(`${proc.role} process not ready after ${timeoutMs} ms; log:\n${this.logTail()}`);
        await sleep(100);
      }
      if (proc.running) return;
      const status = proc.exitStatus;
      if (attempt >= 2 || !status.startsWith('SIG')) throw new Error(`${proc.role} process exited during start-up (${status}); log:\n${this.logTail()}`);
      process.stderr.write(`[stack] ${proc.role} process got ${status} during start-up (not from us); starting it again\n`);
    }
  }

  private async isReady(proc: AppProcess): Promise<boolean> {
    if (hasHttp(proc.role)) return (await httpStatus(`${proc.url}/api/v1/event-types`)) === 200;
    // A worker is ready once it reads the log: its consumer names carry its pid (LogConsumer: host-pid-random).
    const marker = `-${proc.pid}-`;
    for (const g of await this.groups().catch(() => [])) {
      const consumers = (await this.admin.xinfo('CONSUMERS', this.streamKey, g.name)) as unknown[][];
      if (consumers.some((c) => String(c[1]).includes(marker))) return true;
    }
    return false;
  }

  /** XINFO GROUPS of the event log: lag (entries not yet read) and pending (read, not acknowledged) per reader. */
  async groups(): Promise<GroupInfo[]> {
    const raw = (await this.admin.xinfo('GROUPS', this.streamKey)) as unknown[][];
    return raw.map((flat) => {
      const f: Record<string, unknown> = {};
      for (let i = 0; i < flat.length; i += 2) f[String(flat[i])] = flat[i + 1];
      return { name: String(f.name), consumers: Number(f.consumers), pending: Number(f.pending), lag: Number(f.lag ?? 0) };
    });
  }

  /** Entries of the log a consumer group has not finished (lag + pending). */
  async backlog(group: string): Promise<number> {
    const g = (await this.groups()).find((x) => x.name === group);
    return g ? g.lag + g.pending : Number.POSITIVE_INFINITY;
  }

  /** Polls until the group's backlog is 0; returns the milliseconds it took from `sinceMs`. */
  async waitBacklogZero(group: string, sinceMs: number, timeoutMs = 60_000): Promise<number> {
    const deadline = nowMs() + timeoutMs;
    while ((await this.backlog(group)) > 0) {
      if (nowMs() > deadline) throw new Error(`consumer group ${group} still has ${await this.backlog(group)} entries after ${timeoutMs} ms`);
      await sleep(10);
    }
    return nowMs() - sinceMs;
  }

  /** Pids of the app processes (`api0`, `worker1`, …) and of redis-server, for CPU and memory accounting. */
  async pids(): Promise<Record<string, number | undefined>> {
    const info = await this.admin.info('server');
    const redis = Number(/process_id:(\d+)/.exec(info)?.[1]);
    return { ...Object.fromEntries(this.procs.map((p, i) => [`${p.role}${i}`, p.pid])), redis };
  }

  /** `SHUTDOWN` (Redis flushes the AOF and exits), as an operator restart would; resolves once the port is closed. */
  async shutdownRedis(): Promise<void> {
    await this.admin.call('SHUTDOWN').catch(() => undefined);
    while (await redisAnswers('127.0.0.1', this.redis.port, 200)) await sleep(20);
  }

  /** Starts redis-server again on the same port and AOF file. */
  async startRedis(): Promise<void> {
    await this.redis.start();
  }

  logTail(lines = 40): string {
    try {
      return readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
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
    rmSync(this.dir, { recursive: true, force: true });
  }
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
