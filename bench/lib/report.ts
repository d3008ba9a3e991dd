import type { Latency } from './histogram.js';

export interface Phase {
  events: number;
  seconds: number;
  latency: Latency;
}

export interface ScenarioLine {
  scenario: string;
  events: number;
  seconds: number;
  eventsPerSec: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  lost: number;
  baseline: string;
  baselineEvents: number;
  baselineSeconds: number;
  baselineEventsPerSec: number;
  baselineP50Ms: number;
  baselineP95Ms: number;
  baselineP99Ms: number;
  /** p95 of the scenario ÷ p95 of its baseline at the same offered load. */
  ratioP95: number;
  [extra: string]: unknown;
}

const r2 = (n: number): number => Math.round(n * 100) / 100;
export const perSec = (events: number, seconds: number): number => (seconds > 0 ? Math.round(events / seconds) : 0);

/** The contract's one-line JSON result (section 10): measured phase, its same-run baseline, and their ratio. */
export function scenarioLine(
  scenario: string,
  measured: Phase,
  lost: number,
  baselineName: string,
  baseline: Phase,
  extra: Record<string, unknown> = {},
): ScenarioLine {
  const m = measured.latency.summary();
  const b = baseline.latency.summary();
  return {
    scenario,
    events: measured.events,
    seconds: r2(measured.seconds),
    eventsPerSec: perSec(measured.events, measured.seconds),
    p50Ms: m.p50Ms,
    p95Ms: m.p95Ms,
    p99Ms: m.p99Ms,
    maxMs: m.maxMs,
    lost,
    baseline: baselineName,
    baselineEvents: baseline.events,
    baselineSeconds: r2(baseline.seconds),
    baselineEventsPerSec: perSec(baseline.events, baseline.seconds),
    baselineP50Ms: b.p50Ms,
    baselineP95Ms: b.p95Ms,
    baselineP99Ms: b.p99Ms,
    ratioP95: b.p95Ms > 0 ? r2(m.p95Ms / b.p95Ms) : 0,
    ...extra,
  };
}

/** Progress goes to stderr: stdout carries only the JSON lines. */
export const progress = (msg: string): void => {
  process.stderr.write(`[bench] ${msg}\n`);
};

export interface TargetCheck {
  measured: number;
  target: string;
  met: boolean;
}

/** A figure beside its issue target, e.g. againstTarget(0.74, '>=', 0.8) → {measured: 0.74, target: '>= 0.8', met: false}. */
export function againstTarget(measured: number, op: '<=' | '>=', bound: number): TargetCheck {
  return { measured: r2(measured), target: `${op} ${bound}`, met: op === '<=' ? measured <= bound : measured >= bound };
}

/** a ÷ b to 3 decimals (0 when b is 0). */
export const ratio = (a: number, b: number): number => (b ? Math.round((a / b) * 1000) / 1000 : 0);
