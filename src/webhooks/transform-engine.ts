import jsonata from 'jsonata';
import { Re2Engine } from './transform-regex.js';
import { describeJsonataError, TransformError } from './transform.js';

export interface EngineLimits {
  /** JSONata's own guard, checked between evaluation steps (the pool's hard timeout covers what runs inside a step). */
  timeoutMs: number;
  /** Longest string a function may build, and largest serialized result (UTF-8 bytes). */
  maxBytes: number;
  /** Compiled expressions kept (least recently used dropped first). */
  cacheSize: number;
}

/** Depth of nested evaluation and items in one sequence, as before the sandbox. */
const STACK = 200;
const SEQUENCE = 100_000;

/** Built-ins that return strings: each result is checked against the cap; $pad and $join before they build anything. */
const STRING_BUILDERS = [
  'string',
  'pad',
  'join',
  'replace',
  'substring',
  'uppercase',
  'lowercase',
  'base64encode',
  'base64decode',
  'encodeUrl',
  'encodeUrlComponent',
  'formatNumber',
  'formatBase',
  'formatInteger',
  'fromMillis',
] as const;

interface JsonataFunction {
  implementation: (this: jsonata.Focus, ...args: unknown[]) => unknown;
  signature?: { definition: string };
}

function lengthBefore(name: string, args: unknown[]): number {
  if (name === 'pad') return Math.abs(Number(args[1]) || 0);
  if (name === 'join' && Array.isArray(args[0])) {
    const sep = typeof args[1] === 'string' ? args[1].length : 0;
    return args[0].reduce((n: number, s: unknown) => n + String(s).length + sep, 0);
  }
  return 0;
}

export interface TransformEngine {
  /** The transform's result as JSON; throws TransformError for any failure of the expression. */
  evaluate(expression: string, input: unknown): Promise<string>;
}

/** JSONata with RE2 regexes, capped string builders and result size; one instance per transform thread. */
export async function createTransformEngine(limits: EngineLimits): Promise<TransformEngine> {
  const originals = new Map<string, JsonataFunction>();
  for (const name of STRING_BUILDERS) originals.set(name, (await jsonata(`$${name}`).evaluate(null)) as JsonataFunction);
  const tooLong = (name: string, n: number) =>
    new TransformError(`$${name} would build a string of ${n} characters, over the ${limits.maxBytes} limit`);

  const cache = new Map<string, jsonata.Expression>();
  const compile = (expression: string): jsonata.Expression => {
    const hit = cache.get(expression);
    if (hit) {
      cache.delete(expression);
      cache.set(expression, hit);
      return hit;
    }
    let expr: jsonata.Expression;
    try {
      const RegexEngine = Re2Engine as unknown as RegExpConstructor;
      expr = jsonata(expression, { timeout: limits.timeoutMs, stack: STACK, sequence: SEQUENCE, RegexEngine });
    } catch (err) {
      throw new TransformError(describeJsonataError(err));
    }
    for (const [name, fn] of originals) {
      expr.registerFunction(
        name,
        async function (this: jsonata.Focus, ...args: unknown[]) {
          if (lengthBefore(name, args) > limits.maxBytes) throw tooLong(name, lengthBefore(name, args));
          const out = await fn.implementation.apply(this, args);
          if (typeof out === 'string' && out.length > limits.maxBytes) throw tooLong(name, out.length);
          return out;
        },
        fn.signature?.definition,
      );
    }
    if (cache.size >= limits.cacheSize) cache.delete(cache.keys().next().value!);
    cache.set(expression, expr);
    return expr;
  };

  return {
    async evaluate(expression, input) {
      const expr = compile(expression);
      let out: unknown;
      try {
        out = await expr.evaluate(input);
      } catch (err) {
        throw err instanceof TransformError ? err : new TransformError(describeJsonataError(err));
      }
      if (out === undefined) throw new TransformError('transform produced no value for this event');
      let json: string;
      try {
        json = JSON.stringify(out);
      } catch (err) {
        throw new TransformError(`result cannot be serialized: ${(err as Error).message}`);
      }
      const bytes = Buffer.byteLength(json);
      if (bytes > limits.maxBytes) throw new TransformError(`result is ${bytes} bytes, over the ${limits.maxBytes}-byte limit`);
      return json;
    },
  };
}
