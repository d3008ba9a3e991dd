/** Fixed time windows aligned on the clock (UTC), so every process agrees on the current one. */
export interface FixedWindow {
  /** Identifies the period in Redis keys (`29412345` for a minute). */
  id: string;
  /** When the period ends (ms since epoch): counters reset, Retry-After points here. */
  resetsAt: number;
}

export function calendarMinute(now: number): FixedWindow {
  const minute = Math.floor(now / 60_000);
  return { id: String(minute), resetsAt: (minute + 1) * 60_000 };
}

/** Whole seconds until the window resets, at least 1 (the value of `Retry-After`). */
export function retryAfterSeconds(window: { resetsAt: number }, now: number): number {
  return Math.max(1, Math.ceil((window.resetsAt - now) / 1000));
}
