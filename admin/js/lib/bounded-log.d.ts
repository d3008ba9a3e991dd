// Types for bounded-log.js (used by the Node tests).
export interface LogEntry {
  id?: string;
  [key: string]: unknown;
}
export declare class BoundedLog<T extends LogEntry = LogEntry> {
  constructor(max?: number);
  readonly max: number;
  entries: T[];
  total: number;
  push(entry: T): { added: boolean; dropped: T[] };
  clear(): void;
  readonly size: number;
}
