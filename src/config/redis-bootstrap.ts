import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Redis } from 'ioredis';
import { maskUrl, retryUntil, type WaitOptions } from '../common/startup-wait.js';

export interface ResolvedRedis {
  url: string;
  /** Set when this process spawned the server: stop it with the app. */
  child?: ChildProcess;
}

const INSTALL_HINT =
  'No Redis reachable at 127.0.0.1:6379 and no redis-server on PATH: install Redis (Debian/Ubuntu: apt-get install -y redis-server; macOS: brew install redis) or set REDIS_URL.';

/** Sends PING over a raw socket; true when the server answers +PONG (or -NOAUTH, which still means "a Redis is there"). */
export function redisAnswers(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (buf) => done(/^(\+PONG|-NOAUTH)/.test(buf.toString())));
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export function redisServerOnPath(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Starts a private redis-server with AOF on, on a free loopback port, and waits until it answers. */
export async function spawnRedis(dataDir: string, port?: number): Promise<ResolvedRedis> {
  mkdirSync(dataDir, { recursive: true });
  const p = port ?? (await freePort());
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(p),
      '--bind',
      '127.0.0.1',
      '--dir',
      path.resolve(dataDir),
      '--appendonly',
      'yes',
      '--appendfsync',
      'everysec',
      '--save',
      '',
      '--protected-mode',
      'yes',
    ],
    { stdio: 'ignore' },
  );
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`);
    if (await redisAnswers('127.0.0.1', p, 200)) return { url: `redis://127.0.0.1:${p}`, child };
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error('redis-server did not answer within 10 s');
}

/** REDIS_URL auto mode: the local default Redis if it answers, else a private child, else a clear error. */
export async function resolveRedis(configured: string | undefined, dataDir = '.data/redis', defaultPort = 6379): Promise<ResolvedRedis> {
  if (configured) return { url: configured };
  if (await redisAnswers('127.0.0.1', defaultPort)) return { url: `redis://127.0.0.1:${defaultPort}` };
  if (!redisServerOnPath()) throw new Error(INSTALL_HINT);
  return spawnRedis(dataDir);
}

/**
 * One connection attempt with ioredis itself (so AUTH, TLS and db index are checked as the app will use them). In
 * cluster mode the seed node must also report `cluster_state:ok` (every slot served).
 */
async function pingOnce(url: string, timeoutMs: number, cluster: boolean): Promise<void> {
  const plain = new URL(url);
  plain.searchParams.delete('cluster');
  const probe = new Redis(plain.toString(), {
    lazyConnect: true,
    connectTimeout: Math.max(100, Math.min(timeoutMs, 5_000)),
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    connectionName: 'humana:startup-probe',
  });
  let cause: Error | undefined;
  probe.on('error', (err: Error) => (cause ??= err)); // connect() itself rejects with a bare "Connection is closed."
  try {
    await probe.connect();
    await probe.ping();
    if (cluster && !/cluster_state:ok/.test(String(await probe.call('CLUSTER', 'INFO')))) {
      throw new Error('Redis Cluster is not ready (cluster_state is not ok)');
    }
  } catch (err) {
    throw cause ?? err;
  } finally {
    probe.disconnect();
  }
}

/** Start-up: waits (bounded, abortable) until the Redis at `url` answers PING; else throws one line naming it. */
export function waitForRedis(url: string, opts: WaitOptions & { cluster?: boolean }): Promise<void> {
  return retryUntil(`Redis at ${maskUrl(url)}`, (remaining) => pingOnce(url, remaining, opts.cluster ?? false), opts);
}
