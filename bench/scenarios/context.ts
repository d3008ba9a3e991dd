import { Stack, type StackOptions } from '../../test/support/launcher.js';
import type { BenchOptions } from '../args.js';

/** Runs fn against a fresh app under test (the run's process layout and profiling flags) and always tears it down. */
export async function withStack<T>(o: BenchOptions, fn: (stack: Stack) => Promise<T>, extra: Partial<StackOptions> = {}): Promise<T> {
  const nodeArgs = o.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`] : [];
  const stack = await Stack.start({ roles: o.roles ?? ['api', 'worker'], nodeArgs, cluster: o.onCluster, ...extra });
  try {
    return await fn(stack);
  } finally {
    await stack.stop();
  }
}
