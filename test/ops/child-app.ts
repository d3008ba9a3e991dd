import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ADMIN_TOKEN, BOOTSTRAP_KEY } from '../helpers/app.js';

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));

export interface ChildApp {
  /** Base URL once an API process announced it. */
  url?: string;
  /** Everything the process wrote to stdout, line by line (JSON log lines). */
  lines: string[];
  stderr: string[];
  waitForLine(pred: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** SIGTERM (graceful, SIGKILL after 10 s) or SIGKILL; resolves once the process exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Resolves with how the process ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  pid: number;
}

export interface SpawnOptions {
  /** Wait for the API's start line and set `url` (default: unless ROLE=worker). */
  waitForStart?: boolean;
  /** How long to wait for it (a loaded machine loads the app slowly). */
  startTimeoutMs?: number;
}

/** `node dist/src/main.js` as `npm start` runs it, with its stdout captured (the logs are the thing under test). */
export async function spawnApp(env: Record<string, string>, opts: SpawnOptions = {}): Promise<ChildApp> {
  const child: ChildProcess = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH, NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', ADMIN_TOKEN, BOOTSTRAP_API_KEY: BOOTSTRAP_KEY, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const stderr: string[] = [];
  const waiters = new Set<() => void>();
  let partial = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop()!;
    lines.push(...parts.filter(Boolean));
    for (const w of waiters) w();
  });
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const waitForLine = (pred: (line: string) => boolean, timeoutMs = 20_000) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const hit = lines.find(pred);
        if (hit === undefined) return;
        cleanup();
        resolve(hit);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no matching log line after ${timeoutMs} ms; stderr: ${stderr.join('').slice(-2000)}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      child.once('exit', () => check());
      check();
    });
  const app: ChildApp = {
    lines,
    stderr,
    exited,
    pid: child.pid!,
    waitForLine,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
  if (opts.waitForStart ?? env.ROLE !== 'worker') {
    const started = await waitForLine((l) => l.includes('Humana Events ('), opts.startTimeoutMs).catch(async (err) => {
      await app.stop('SIGKILL');
      throw err;
    });
    app.url = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(started)![1];
  }
  return app;
}
