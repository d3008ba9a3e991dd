import { z } from 'zod';

/**
 * Pattern matching shared by webhook subscriptions and live-stream filters.
 * Type patterns: exact (`message.sent`), prefix (`message.*`), everything (`*`).
 * Value patterns: exact, or with `*` wildcards anywhere (`user-*`, `*-eu`). No regular expression is ever built from
 * a pattern: patterns come from API callers, and a backtracking regex engine lets one caller stall the process.
 */
export function typeMatches(pattern: string, type: string): boolean {
  if (pattern === '*' || pattern === type) return true;
  return pattern.endsWith('.*') && type.startsWith(pattern.slice(0, -1));
}

export function anyTypeMatches(patterns: readonly string[], type: string): boolean {
  return patterns.some((p) => typeMatches(p, type));
}

const STAR = 42;

/** Bounds every value pattern accepted through the API (webhook filters, stream companions/userId). */
export const GLOB_LIMITS = { maxLength: 256, maxStars: 16 } as const;

/** Why a value pattern is refused, or null when it is acceptable. Runs of `*` count as one wildcard. */
export function globProblem(pattern: string): string | null {
  if (pattern.length > GLOB_LIMITS.maxLength) return `at most ${GLOB_LIMITS.maxLength} characters`;
  let stars = 0;
  for (let i = 0; i < pattern.length; i++) {
    if (pattern.charCodeAt(i) === STAR && (i === 0 || pattern.charCodeAt(i - 1) !== STAR)) stars++;
  }
  return stars > GLOB_LIMITS.maxStars ? `at most ${GLOB_LIMITS.maxStars} "*" wildcards` : null;
}

/** A compiled value pattern: `exact`, or the literal pieces between wildcards (`head*mid*…*tail`). */
type Glob = { exact: string } | { head: string; middle: string[]; tail: string };

function compileGlob(pattern: string): Glob {
  if (!pattern.includes('*')) return { exact: pattern };
  const parts = pattern.split('*');
  return { head: parts[0], middle: parts.slice(1, -1).filter(Boolean), tail: parts[parts.length - 1] };
}

/**
 * The greedy glob algorithm: after a wildcard, take the leftmost occurrence of the next literal piece (backtracking
 * only to the last wildcard is enough, and a leftmost match never loses), with `indexOf` doing the scan. Each piece
 * is searched from where the previous one ended, so a match costs about one pass over the value whatever the
 * pattern; never worse than O(value × pattern).
 */
function globMatches(g: Glob, s: string): boolean {
  if ('exact' in g) return g.exact === s;
  const { head, middle, tail } = g;
  if (s.length < head.length + tail.length || !s.startsWith(head) || !s.endsWith(tail)) return false;
  const end = s.length - tail.length;
  let pos = head.length;
  for (const piece of middle) {
    const at = s.indexOf(piece, pos);
    if (at < 0 || at + piece.length > end) return false;
    pos = at + piece.length;
  }
  return true;
}

/** A value pattern accepted from the API (webhook filters, stream companions/userId): 1–256 characters, at most 16 `*`. */
export const valuePatternSchema = z
  .string()
  .min(1)
  .max(GLOB_LIMITS.maxLength)
  .superRefine((p, ctx) => {
    const problem = globProblem(p);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

const globCache = new Map<string, Glob>();

function globOf(pattern: string): Glob {
  let g = globCache.get(pattern);
  if (!g) {
    g = compileGlob(pattern);
    if (globCache.size >= 10_000) globCache.clear();
    globCache.set(pattern, g);
  }
  return g;
}

/** Strings, numbers and booleans compare by their string form; anything else (absent, null, objects) never matches. */
export function scalarText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

export function valueMatches(pattern: string, value: unknown): boolean {
  const v = scalarText(value);
  return v !== undefined && globMatches(globOf(pattern), v);
}

export function anyValueMatches(patterns: readonly string[], value: unknown): boolean {
  const v = scalarText(value);
  return v !== undefined && patterns.some((p) => globMatches(globOf(p), v));
}
