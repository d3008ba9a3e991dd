import { calendarMinute } from '../common/windows.js';

export { retryAfterSeconds } from '../common/windows.js';

/** The two counting periods: calendar minute and calendar month, both UTC, both aligned so every process agrees. */
export type QuotaMetric = 'events_per_minute' | 'events_per_month';

export interface QuotaWindow {
  metric: QuotaMetric;
  /** Identifies the period in Redis keys (`29412345` for a minute, `2025-03` for a month). */
  id: string;
  /** When the period ends (ms since epoch): counters reset, Retry-After points here. */
  resetsAt: number;
}

export function minuteWindow(now: number): QuotaWindow {
  return { metric: 'events_per_minute', ...calendarMinute(now) };
}

export function monthWindow(now: number): QuotaWindow {
  const d = new Date(now);
  const year = d.getUTCFullYear();
  const month = d.getUTCMonth();
  return { metric: 'events_per_month', id: `${year}-${String(month + 1).padStart(2, '0')}`, resetsAt: Date.UTC(year, month + 1, 1) };
}
