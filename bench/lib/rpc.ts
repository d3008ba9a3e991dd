import { fork, type ChildProcess } from 'node:child_process';

/** What a load process exposes: named async methods taking one structured-clonable argument. */
export type Methods = Record<string, (arg: never) => unknown>;

interface Call {
  id: number;
  method: string;
  arg: unknown;
}
type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

/** Child side: answers the parent's calls until it is told to stop (or the parent goes away). */
export function serve(methods: Methods): void {
  process.on('message', (msg: Call) => {
    const reply = (r: Reply) => process.send?.(r);
    Promise.resolve()
      .then(() => {
        const fn = methods[msg.method] as ((arg: unknown) => unknown) | undefined;
        if (!fn) throw new Error(`no method ${msg.method}`);
        return fn(msg.arg);
      })
      .then(
        (value) => reply({ id: msg.id, ok: true, value }),
        (err: Error) => reply({ id: msg.id, ok: false, error: err.stack ?? String(err) }),
      );
  });
  process.on('disconnect', () => process.exit(0));
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/**
 * A load generator (or receiver, or subscriber pool) in its own Node process, so the process under measurement
 * never shares an event loop or a core's time slice with the load. Its stdout goes to our stderr: stdout is for results.
 */
export class LoadProcess<M extends Methods> {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private exited = false;

  private constructor(
    private readonly child: ChildProcess,
    readonly name: string,
  ) {
    live.add(child);
    child.on('message', (r: Reply) => {
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      if (r.ok) p.resolve(r.value);
      else p.reject(new Error(`${name}: ${r.error}`));
    });
    child.once('exit', (code, signal) => {
      this.exited = true;
      live.delete(child);
      for (const p of this.pending.values()) p.reject(new Error(`${name} exited (${signal ?? code})`));
      this.pending.clear();
    });
  }

  /** `script` is the compiled load module (e.g. `new URL('../load/publisher.js', import.meta.url)`). */
  static start<M extends Methods>(script: URL, name: string, execArgv: string[] = []): LoadProcess<M> {
    const child = fork(script, [], { stdio: ['ignore', 2, 2, 'ipc'], serialization: 'advanced', execArgv });
    return new LoadProcess<M>(child, name);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  call<K extends keyof M & string>(method: K, arg: Parameters<M[K]>[0]): Promise<Awaited<ReturnType<M[K]>>> {
    if (this.exited) return Promise.reject(new Error(`${this.name} has exited`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, method, arg } satisfies Call);
    });
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise((r) => this.child.once('exit', r));
    this.child.disconnect();
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await gone;
    clearTimeout(t);
  }
}
