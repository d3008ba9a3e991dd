import { Worker } from 'node:worker_threads';
import type { WriteReply, WriteRequest } from './sqlite-writer.thread.js';

/** The main-thread side of the SQLite writer thread: one promise per transaction. */
export class SqliteWriter {
  private readonly worker: Worker;
  private seq = 0;
  private readonly pending = new Map<number, { resolve(): void; reject(err: Error): void }>();

  constructor(file: string) {
    this.worker = new Worker(new URL('./sqlite-writer.thread.js', import.meta.url), { workerData: { file } });
    this.worker.on('message', (reply: WriteReply) => {
      const p = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (reply.error) p?.reject(new Error(reply.error));
      else p?.resolve();
    });
    this.worker.on('error', (err) => this.failAll(err));
    this.worker.on('exit', () => this.failAll(new Error('SQLite writer thread exited')));
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  /** Runs the statements in one transaction on the writer thread's connection. */
  run(statements: WriteRequest['statements']): Promise<void> {
    const id = ++this.seq;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, statements } satisfies WriteRequest);
    });
  }

  async close(): Promise<void> {
    const exited = new Promise((r) => this.worker.once('exit', r));
    this.worker.postMessage('close');
    await exited;
  }
}
