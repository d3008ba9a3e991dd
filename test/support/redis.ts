import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, spawnRedis } from '../../src/config/redis-bootstrap.js';
import type { ChildProcess } from 'node:child_process';

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
