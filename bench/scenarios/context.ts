import type { BenchOptions } from '../args.js';
import { Stack, type StackOptions } from '../lib/stack.js';

/** Starts the app under test for one scenario with the run's process layout and profiling flags. */
export function startStack(o: BenchOptions, extra: Partial<StackOptions> = {}): Promise<Stack> {
  const nodeArgs = o.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`] : [];
  return Stack.start({ roles: o.roles, nodeArgs, ...extra });
}

/** Runs fn against a fresh stack and always tears it down. */
export async function withStack<T>(o: BenchOptions, fn: (stack: Stack) => Promise<T>, extra: Partial<StackOptions> = {}): Promise<T> {
  const stack = await startStack(o, extra);
  try {
    return await fn(stack);
  } finally {
    await stack.stop();
  }
}
