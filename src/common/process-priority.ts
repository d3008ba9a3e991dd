import { readdirSync } from 'node:fs';
import { setPriority } from 'node:os';

/**
 * Lowers this process's CPU scheduling priority to `nice` (0–19). Linux keeps a niceness per thread and a new thread
 * inherits its creator's, so every thread that exists now is set (V8's helpers started before this), and the ones
 * started later (libuv's pool, worker threads) inherit it from the main thread.
 */
export function lowerCpuPriority(nice: number): void {
  let threads: number[] = [];
  try {
    threads = readdirSync('/proc/self/task').map(Number);
  } catch {
    // not Linux: the process as a whole
  }
  if (!threads.length) return setPriority(nice);
  for (const tid of threads) setPriority(tid, nice);
}
