import { anyValueMatches } from '../events/matching.js';

/**
 * Webhook `filters`: `{ "<dotted data path>": condition }`, every field must hold (AND).
 * A condition is a list of values (any may match, `*` wildcards; strings, numbers and booleans compare by their
 * string form) or an operator object: `{gte|gt|lte|lt: number}` (combinable; only numeric data values match),
 * `{not: [values]}` (also holds when the field is absent), `{exists: boolean}` (present and not null).
 */
export type FilterValue = string | number | boolean;
export interface RangeCondition {
  gte?: number;
  gt?: number;
  lte?: number;
  lt?: number;
}
export type FilterCondition = FilterValue[] | RangeCondition | { not: FilterValue[] } | { exists: boolean };
export type WebhookFilters = Record<string, FilterCondition>;

export type DataPredicate = (data: Record<string, unknown>) => boolean;

export const FILTER_LIMITS = { fields: 20, values: 100, pathLength: 128, pathDepth: 8 } as const;

const SEGMENT = /^[A-Za-z0-9_-]+$/;
const UNSAFE_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype']);

/** Why a filter path is refused, or null when it is acceptable. */
export function filterPathProblem(path: string): string | null {
  if (path.length === 0 || path.length > FILTER_LIMITS.pathLength) return `a path of 1 to ${FILTER_LIMITS.pathLength} characters`;
  const segments = path.split('.');
  if (segments.length > FILTER_LIMITS.pathDepth) return `at most ${FILTER_LIMITS.pathDepth} levels ("a.b.c")`;
  for (const s of segments) {
    if (!SEGMENT.test(s)) return 'a dotted path into data: segments of letters, digits, "_" and "-" separated by "."';
    if (UNSAFE_SEGMENTS.has(s)) return `"${s}" is not allowed in a path`;
  }
  return null;
}

/** Own properties only, so a path never reads what an object inherits (`toString`, `__proto__`). */
function resolve(data: unknown, segments: readonly string[]): unknown {
  let cur = data;
  for (const s of segments) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, s)) return undefined;
    cur = (cur as Record<string, unknown>)[s];
  }
  return cur;
}

function conditionPredicate(c: FilterCondition): (value: unknown) => boolean {
  if (Array.isArray(c)) {
    const patterns = c.map(String);
    return (v) => anyValueMatches(patterns, v);
  }
  if ('exists' in c) return c.exists ? (v) => v !== undefined && v !== null : (v) => v === undefined || v === null;
  if ('not' in c) {
    const patterns = c.not.map(String);
    return (v) => !anyValueMatches(patterns, v);
  }
  const { gte, gt, lte, lt } = c;
  return (v) =>
    typeof v === 'number' &&
    (gte === undefined || v >= gte) &&
    (gt === undefined || v > gt) &&
    (lte === undefined || v <= lte) &&
    (lt === undefined || v < lt);
}

/** One predicate over an event's `data` for a webhook's stored filters (null: every event). */
export function compileFilters(filters: WebhookFilters | null | undefined): DataPredicate {
  if (!filters) return () => true;
  const checks = Object.entries(filters).map(([path, condition]) => {
    const segments = path.split('.');
    const holds = conditionPredicate(condition);
    return (data: Record<string, unknown>) => holds(resolve(data, segments));
  });
  return (data) => checks.every((check) => check(data));
}
