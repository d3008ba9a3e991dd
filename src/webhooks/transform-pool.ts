import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Worker } from 'node:worker_threads';
import type { AppConfig } from '../config/config.js';
import type { EngineLimits } from './transform-engine.js';
import { TransformError, TransformUnavailableError } from './transform.js';
import type { TransformReply, TransformRequest } from './transform.thread.js';

export type TransformPoolOptions = AppConfig['transforms'];

/** Per-thread V8 limits: a transform that allocates past them kills its thread (ERR_WORKER_OUT_OF_MEMORY), not us. */
const RESOURCE_LIMITS = { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 16, stackSizeMb: 4 };
const CACHE_SIZE = 500;

interface Task {
  expression: string;
  input: unknown;
  resolve(json: string): void;
  reject(err: Error): void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  task?: Task & { id: number; timer: NodeJS.Timeout };
}

/**
 * JSONata transforms run here, never on the event loop: a few worker threads with heap and stack limits, a hard
 * wall-clock timeout that terminates the thread, a bounded queue. A thread that is terminated, runs out of memory or
 * dies is replaced on demand. A provider of the webhooks module (the preview and delivery share it), closed at shutdown.
 */
export class TransformPool implements OnApplicationShutdown {
  private readonly logger = new Logger('TransformPool');
  private readonly slots = new Set<Slot>();
  private readonly queue: Task[] = [];
  private seq = 0;
  private closed = false;

  constructor(private readonly opts: TransformPoolOptions) {}

  /** The transform's result as JSON text. TransformError: the expression's fault; TransformUnavailableError: ours. */
  run(expression: string, input: unknown): Promise<string> {
    if (this.closed) return Promise.reject(new TransformUnavailableError('transforms are shutting down'));
    if (this.queue.length >= this.opts.maxQueue)
      return Promise.reject(new TransformUnavailableError(`transform queue full (${this.opts.maxQueue} waiting)`));
    return new Promise<string>((resolve, reject) => {
      this.queue.push({ expression, input, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.ready && !slot.task && this.queue.length) this.start(slot, this.queue.shift()!);
      // Only a thread with work (or starting for it) keeps the process alive.
      if (slot.ready && !slot.task) slot.worker.unref();
      else slot.worker.ref();
    }
    if (this.queue.length && this.slots.size < this.opts.threads && !this.closed) this.spawn();
  }

  private start(slot: Slot, task: Task): void {
    const id = ++this.seq;
    const timer = setTimeout(
      () => this.retire(slot, new TransformError(`transform took longer than ${this.opts.timeoutMs} ms`)),
      this.opts.timeoutMs,
    );
    slot.task = { ...task, id, timer };
    try {
      slot.worker.postMessage({ id, expression: task.expression, input: task.input } satisfies TransformRequest);
    } catch (err) {
      this.settle(slot, id, { error: `event cannot be passed to the transform: ${(err as Error).message}` });
    }
  }

  private settle(slot: Slot, id: number, reply: { json: string } | { error: string }): void {
    const task = slot.task;
    if (!task || task.id !== id) return;
    clearTimeout(task.timer);
    slot.task = undefined;
    if ('json' in reply) task.resolve(reply.json);
    else task.reject(new TransformError(reply.error));
    this.dispatch();
  }

  private spawn(): void {
    const limits: EngineLimits = { timeoutMs: this.opts.timeoutMs, maxBytes: this.opts.maxBytes, cacheSize: CACHE_SIZE };
    const worker = new Worker(new URL('./transform.thread.js', import.meta.url), { workerData: limits, resourceLimits: RESOURCE_LIMITS });
    const slot: Slot = { worker, ready: false };
    this.slots.add(slot);
    worker.on('message', (reply: TransformReply) => {
      if ('ready' in reply) {
        slot.ready = true;
        this.dispatch();
      } else this.settle(slot, reply.id, reply);
    });
    worker.on('error', (err: Error & { code?: string }) => {
      const oom = err.code === 'ERR_WORKER_OUT_OF_MEMORY';
      if (!slot.ready) this.logger.error(`transform thread failed to start: ${err.message}`);
      this.retire(
        slot,
        new TransformError(oom ? 'transform exceeded its memory limit' : `transform thread failed: ${err.message}`),
        slot.ready,
      );
    });
    worker.on('exit', () => this.retire(slot, new TransformError('transform thread exited'), slot.ready));
  }

  /**
   * Takes a thread out (terminated if still running), fails its task and starts its replacement. A thread that never
   * became ready fails the waiting tasks instead, rather than respawning in a loop.
   */
  private retire(slot: Slot, err: Error, started = true): void {
    if (!this.slots.delete(slot)) return;
    void slot.worker.terminate();
    if (slot.task) {
      clearTimeout(slot.task.timer);
      slot.task.reject(err);
      slot.task = undefined;
    }
    if (!started) for (const t of this.queue.splice(0)) t.reject(new TransformUnavailableError('transform threads cannot start'));
    // Replaced at once: a thread takes a while to load JSONata, the next transform should not wait for that.
    else if (!this.closed) this.spawn();
    this.dispatch();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.queue.splice(0)) t.reject(new TransformUnavailableError('transforms are shutting down'));
    const exits = [...this.slots].map((s) => s.worker.terminate());
    for (const s of [...this.slots]) this.retire(s, new TransformUnavailableError('transforms are shutting down'));
    await Promise.allSettled(exits);
  }

  onApplicationShutdown(): Promise<void> {
    return this.close();
  }
}
