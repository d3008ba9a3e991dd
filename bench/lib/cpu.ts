import { readFileSync } from 'node:fs';

/** CPU seconds (user + system) a process has used so far, from /proc (Linux; 100 clock ticks per second). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** Measures the CPU time each named process spends between start() and the returned stop(). */
export function cpuMeter(pids: Record<string, number | undefined>): () => Record<string, number> {
  const entries = Object.entries(pids).filter((e): e is [string, number] => e[1] !== undefined);
  const before = new Map(entries.map(([name, pid]) => [name, cpuSeconds(pid)]));
  return () => Object.fromEntries(entries.map(([name, pid]) => [name, Math.round((cpuSeconds(pid) - before.get(name)!) * 100) / 100]));
}

/** CPU milliseconds per 1,000 events, per process. */
export function cpuPer1000(used: Record<string, number>, events: number): Record<string, number> {
  return Object.fromEntries(Object.entries(used).map(([k, s]) => [k, events ? Math.round((s * 1e6) / events) : 0]));
}
