/**
 * Runs in a worker thread: the delivery log's SQLite writes happen on their own connection here, so the event loop
 * that delivers webhooks never blocks on them. Receives `{id, statements}`, runs them in one transaction.
 */
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';

interface Statement {
  run(params: unknown[]): unknown;
}
interface SqliteDatabase {
  pragma(s: string): unknown;
  prepare(sql: string): Statement;
  transaction<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void;
  close(): void;
}
type SqliteConstructor = new (file: string) => SqliteDatabase;

export interface WriteRequest {
  id: number;
  statements: { sql: string; params: unknown[] }[];
}
export type WriteReply = { id: number; error?: string };

const Database = createRequire(import.meta.url)('better-sqlite3') as SqliteConstructor;
const db = new Database((workerData as { file: string }).file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 5000');
const prepared = new Map<string, Statement>();
const runAll = db.transaction((statements: WriteRequest['statements']) => {
  for (const { sql, params } of statements) {
    let st = prepared.get(sql);
    if (!st) prepared.set(sql, (st = db.prepare(sql)));
    st.run(params);
  }
});

parentPort!.on('message', (req: WriteRequest | 'close') => {
  if (req === 'close') {
    db.close();
    parentPort!.close();
    return;
  }
  try {
    runAll(req.statements);
    parentPort!.postMessage({ id: req.id } satisfies WriteReply);
  } catch (err) {
    parentPort!.postMessage({ id: req.id, error: (err as Error).message } satisfies WriteReply);
  }
});
