import { readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** CPU seconds the whole machine has been busy (all cores; everything but idle and iowait). */
function machineBusySeconds(): number {
  const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return (user + nice + system + irq + softirq + steal) / TICKS_PER_SECOND;
}

const r2 = (n: number): number => Math.round(n * 100) / 100;

/**
 * Measures the CPU seconds each named process spends until the returned function is called, plus `others`: what
 * the rest of the machine used meanwhile (other work on a shared box disturbs the figures; this says how much).
 */
export function cpuMeter(pids: Record<string, number | undefined>): () => Record<string, number> {
  const entries = Object.entries({ ...pids, bench: process.pid }).filter((e): e is [string, number] => e[1] !== undefined);
  const before = new Map(entries.map(([name, pid]) => [name, cpuSeconds(pid)]));
  const machineBefore = machineBusySeconds();
  return () => {
    const used = Object.fromEntries(entries.map(([name, pid]) => [name, r2(cpuSeconds(pid) - before.get(name)!)]));
    const ours = Object.values(used).reduce((a, b) => a + b, 0);
    return { ...used, others: r2(Math.max(0, machineBusySeconds() - machineBefore - ours)) };
  };
}

/** CPU milliseconds per 1,000 events (= µs per event), per process. */
export function cpuPer1000(used: Record<string, number>, events: number): Record<string, number> {
  return Object.fromEntries(
    Object.entries(used)
      .filter(([k]) => k !== 'others')
      .map(([k, s]) => [k, events ? Math.round((s * 1e6) / events) : 0]),
  );
}

/** CPU µs per event of the processes whose meter name matches `which` together (e.g. every worker, every redis node). */
export function cpuUsPerEvent(used: Record<string, number>, events: number, which: RegExp): number {
  const seconds = Object.entries(used)
    .filter(([k]) => k !== 'others' && which.test(k))
    .reduce((n, [, s]) => n + s, 0);
  return events ? Math.round((seconds * 1e6) / events) : 0;
}

/** The processes that deliver webhooks in a stack's meter (`worker1`, or `all0` when one process does everything). */
export const DELIVERING = /^(worker|all)\d+$/;
/** The stack's redis-server(s) in a meter (`redis`, or `redis0`… on a cluster). */
export const REDIS = /^redis\d*$/;
