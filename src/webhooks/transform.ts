import jsonata from 'jsonata';

export const TRANSFORM_LIMITS = { timeout: 100, stack: 200, sequence: 100_000 } as const;

export type CompiledTransform = jsonata.Expression;

export class TransformError extends Error {}

function describe(err: unknown): string {
  const e = err as { message?: string; code?: string; position?: number };
  return `${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}${e.position !== undefined ? ` (at position ${e.position})` : ''}`;
}

/**
 * Parses a JSONata expression with guardrails: evaluation stops past 100 ms, a recursion depth of 200 or sequences of
 * 100,000 items. Only JSONata's own functions run: no user code.
 */
export function compileTransform(expression: string): CompiledTransform {
  try {
    return jsonata(expression, { ...TRANSFORM_LIMITS });
  } catch (err) {
    throw new TransformError(describe(err));
  }
}

/** The body a transform produces from an envelope; throws TransformError when evaluation fails or yields nothing. */
export async function applyTransform(expr: CompiledTransform, input: unknown): Promise<unknown> {
  let out: unknown;
  try {
    out = await expr.evaluate(input);
  } catch (err) {
    throw new TransformError(describe(err));
  }
  if (out === undefined) throw new TransformError('transform produced no value for this event');
  return out;
}
