import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { freePort, redisAnswers, spawnRedis } from '../../src/config/redis-bootstrap.js';

export interface PrivateRedis {
  url: string;
  port: number;
  dir: string;
  /** SHUTDOWN (AOF is flushed), as an operator restart would. */
  stop(): Promise<void>;
  /** Starts again on the same port and AOF. */
  start(): Promise<void>;
  /** Stops it and removes its data. */
  destroy(): Promise<void>;
}

/** A redis-server of this test run's own (AOF on, free port, temp dir): tests never touch a Redis they did not start. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const dir = mkdtempSync(path.join(tmpdir(), 'humana-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined = (await spawnRedis(dir, port)).child;
  const stop = async () => {
    if (!child || child.exitCode !== null) return;
    const c = child;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await exited;
    child = undefined;
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    stop,
    start: async () => {
      child = (await spawnRedis(dir, port)).child;
    },
    destroy: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface PrivateClusterNode {
  port: number;
  /** The redis-server process (null once killed or stopped). */
  child: ChildProcess | null;
}

export interface PrivateCluster {
  /** `redis://127.0.0.1:<first port>?cluster=true`: what REDIS_URL gets. */
  url: string;
  /** `127.0.0.1:p1,…`: what REDIS_CLUSTER_NODES gets. */
  nodes: string;
  ports: number[];
  dir: string;
  members: PrivateClusterNode[];
  /** Port of the master currently serving `slot` (asks a live node). */
  masterOf(slot: number): Promise<number>;
  /** The hash slot of a key (CLUSTER KEYSLOT). */
  slotOf(key: string): number;
  /** Ports of the replicas of the master on `port`. */
  replicasOf(port: number): number[];
  /** SIGSTOP / SIGCONT of one node (a replica that stops acknowledging). */
  pause(port: number): void;
  resume(port: number): void;
  /** SIGKILL of one node (a crash, nothing flushed). */
  kill(port: number): Promise<void>;
  /** Starts a killed node again on its port, nodes.conf and AOF (a failed master rejoins as a replica). */
  restart(port: number): Promise<void>;
  /** Waits until every live node reports cluster_state:ok and agrees that `slot` is served by a live master. */
  waitHealthy(timeoutMs?: number, slot?: number): Promise<void>;
  /** Stops every node and removes their data. */
  destroy(): Promise<void>;
}

/** True when both redis-server and redis-cli are installed (the cluster tests skip otherwise). */
export function clusterToolsAvailable(): boolean {
  return ['redis-server', 'redis-cli'].every((bin) => spawnSync(bin, ['--version'], { stdio: 'ignore' }).status === 0);
}

function redisCli(args: string[], timeoutMs = 10_000): string {
  const r = spawnSync('redis-cli', args, { encoding: 'utf8', timeout: timeoutMs });
  if (r.status !== 0) throw new Error(`redis-cli ${args.join(' ')} failed: ${r.stderr || r.stdout}`);
  return r.stdout;
}

function cli(port: number, ...args: string[]): string | null {
  const r = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { encoding: 'utf8', timeout: 3_000 });
  return r.status === 0 ? r.stdout : null;
}

/**
 * A private Redis Cluster of this test run: `masters` masters with one replica each (2 × masters redis-server
 * processes, cluster-enabled, AOF on, node timeout `nodeTimeoutMs`), joined with `redis-cli --cluster create`.
 */
export async function startPrivateCluster(opts: { masters?: number; nodeTimeoutMs?: number } = {}): Promise<PrivateCluster> {
  const masters = opts.masters ?? 3;
  const nodeTimeout = opts.nodeTimeoutMs ?? 2_000;
  const dir = mkdtempSync(path.join(tmpdir(), 'humana-cluster-'));
  const ports: number[] = [];
  while (ports.length < masters * 2) {
    const p = await freePort();
    // the cluster bus listens on port + 10000: both must be free, and distinct from the others
    if (p + 10_000 < 65_536 && !ports.includes(p) && !ports.some((q) => q + 10_000 === p || p + 10_000 === q)) ports.push(p);
  }
  const nodeArgs = (port: number): string[] => [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--cluster-enabled',
    'yes',
    '--cluster-config-file',
    path.join(dir, `nodes-${port}.conf`),
    '--cluster-node-timeout',
    String(nodeTimeout),
    '--appendonly',
    'yes',
    '--appendfilename',
    `appendonly-${port}.aof`,
    '--appenddirname',
    `aof-${port}`,
    '--appendfsync',
    'everysec',
  ];
  const members: PrivateClusterNode[] = ports.map((port) => ({ port, child: spawn('redis-server', nodeArgs(port), { stdio: 'ignore' }) }));
  const destroy = async () => {
    await Promise.all(
      members.map(async (m) => {
        const c = m.child;
        m.child = null;
        if (!c || c.exitCode !== null || c.signalCode !== null) return;
        const exited = new Promise((r) => c.once('exit', r));
        c.kill('SIGKILL');
        await exited;
      }),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  const live = () => members.filter((m) => m.child && m.child.exitCode === null && m.child.signalCode === null);
  const masterOf = async (slot: number): Promise<number> => {
    for (const m of live()) {
      const slots = cli(m.port, 'CLUSTER', 'NODES');
      if (!slots) continue;
      for (const line of slots.trim().split('\n')) {
        const f = line.split(' ');
        if (!f[2].includes('master') || f[2].includes('fail')) continue;
        for (const range of f.slice(8)) {
          const [a, b] = range.split('-').map(Number);
          if (slot >= a && slot <= (b ?? a)) return Number(f[1].split('@')[0].split(':')[1]);
        }
      }
    }
    throw new Error(`no live master serves slot ${slot}`);
  };
  const waitHealthy = async (timeoutMs = 30_000, slot?: number) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ok = live().every((m) => /cluster_state:ok/.test(cli(m.port, 'CLUSTER', 'INFO') ?? ''));
      let served = true;
      if (ok && slot !== undefined) {
        const port = await masterOf(slot).catch(() => 0);
        served = live().some((m) => m.port === port);
      }
      if (ok && served) return;
      if (Date.now() > deadline) throw new Error(`Redis Cluster not healthy within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  try {
    for (const m of members) {
      const deadline = Date.now() + 10_000;
      while (!(await redisAnswers('127.0.0.1', m.port, 200))) {
        if (m.child!.exitCode !== null) throw new Error(`redis-server on ${m.port} exited with code ${m.child!.exitCode}`);
        if (Date.now() > deadline) throw new Error(`redis-server on ${m.port} did not answer within 10 s`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    redisCli(['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '1', '--cluster-yes'], 60_000);
    await waitHealthy();
    // every replica attached to its master (the replication link is up), so WAIT can count it
    const deadline = Date.now() + 30_000;
    while (
      !members.every(
        (m) =>
          /role:master/.test(cli(m.port, 'INFO', 'replication') ?? '') ||
          /master_link_status:up/.test(cli(m.port, 'INFO', 'replication') ?? ''),
      )
    ) {
      if (Date.now() > deadline) throw new Error('Redis Cluster replicas did not sync within 30 s');
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    await destroy();
    throw err;
  }
  return {
    url: `redis://127.0.0.1:${ports[0]}?cluster=true`,
    nodes: ports.map((p) => `127.0.0.1:${p}`).join(','),
    ports,
    dir,
    members,
    masterOf,
    waitHealthy,
    slotOf: (key) => {
      for (const m of live()) {
        const out = cli(m.port, 'CLUSTER', 'KEYSLOT', key);
        if (out !== null) return Number(out.trim());
      }
      throw new Error('no live node');
    },
    replicasOf: (port) => {
      for (const m of live()) {
        const out = cli(m.port, 'CLUSTER', 'NODES');
        if (out === null) continue;
        const lines = out
          .trim()
          .split('\n')
          .map((l) => l.split(' '));
        const master = lines.find((f) => f[1].split('@')[0].endsWith(`:${port}`));
        if (!master) continue;
        return lines.filter((f) => f[3] === master[0] && !f[2].includes('fail')).map((f) => Number(f[1].split('@')[0].split(':')[1]));
      }
      return [];
    },
    restart: async (port) => {
      const m = members.find((x) => x.port === port);
      if (!m || m.child) return;
      m.child = spawn('redis-server', nodeArgs(port), { stdio: 'ignore' });
      const deadline = Date.now() + 10_000;
      while (!(await redisAnswers('127.0.0.1', port, 200))) {
        if (Date.now() > deadline) throw new Error(`redis-server on ${port} did not answer within 10 s`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    pause: (port) => void members.find((x) => x.port === port)?.child?.kill('SIGSTOP'),
    resume: (port) => void members.find((x) => x.port === port)?.child?.kill('SIGCONT'),
    kill: async (port) => {
      const m = members.find((x) => x.port === port);
      const c = m?.child;
      if (!m || !c) return;
      m.child = null;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGKILL');
      await exited;
    },
    destroy,
  };
}

export interface PrivateReplica {
  port: number;
  child: ChildProcess;
  /** SIGSTOP: the replica stops acknowledging (WAIT times out) without the master noticing a disconnection. */
  pause(): void;
  resume(): void;
  /** Waits until its replication link is up (it then acknowledges). */
  synced(timeoutMs?: number): Promise<void>;
  destroy(): Promise<void>;
}

/** A replica of `primary` (`--replicaof`), a private redis-server of its own. */
export async function startPrivateReplica(primary: PrivateRedis): Promise<PrivateReplica> {
  const dir = mkdtempSync(path.join(tmpdir(), 'humana-replica-'));
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--replicaof', '127.0.0.1', String(primary.port)],
    {
      stdio: 'ignore',
    },
  );
  const synced = async (timeoutMs = 15_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!/master_link_status:up/.test(cli(port, 'INFO', 'replication') ?? '')) {
      if (child.exitCode !== null) throw new Error(`replica redis-server exited with code ${child.exitCode}`);
      if (Date.now() > deadline) throw new Error(`replica on ${port} did not sync within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await synced();
  return {
    port,
    child,
    pause: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
    synced,
    destroy: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
