import jsonata from 'jsonata';
import { re2Of } from './transform-regex.js';

/** The expression failed on this input (or cannot run at all): the delivery fails for good, the preview answers 400. */
export class TransformError extends Error {}

/** Transforms cannot run right now (queue full, shutting down): worth retrying, never the expression's fault. */
export class TransformUnavailableError extends Error {}

export function describeJsonataError(err: unknown): string {
  const e = err as { message?: string; code?: string; position?: number };
  return `${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}${e.position !== undefined ? ` (at position ${e.position})` : ''}`;
}

function regexLiterals(node: unknown, out: RegExp[] = []): RegExp[] {
  if (node instanceof RegExp) out.push(node);
  else if (node && typeof node === 'object') for (const v of Object.values(node)) regexLiterals(v, out);
  return out;
}

/**
 * Save-time validation, cheap and synchronous: the expression parses and every regex literal compiles in RE2 (no
 * backreferences or lookaround). Nothing is evaluated here; evaluation happens only in the transform threads.
 */
export function checkTransform(expression: string): void {
  let ast: unknown;
  try {
    ast = jsonata(expression).ast();
  } catch (err) {
    throw new TransformError(describeJsonataError(err));
  }
  for (const re of regexLiterals(ast)) {
    try {
      re2Of(re);
    } catch (err) {
      throw new TransformError(
        `regex /${re.source}/ is not supported (linear-time RE2 syntax only: no backreferences or lookaround): ${(err as Error).message}`,
      );
    }
  }
}
