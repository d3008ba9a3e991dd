import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import type { RegExpLike } from 'ajv/dist/types/index.js';
import formats from 'ajv-formats';
import { RE2JS } from 're2js';
import type { ErrorDetail } from '../common/api-error.js';

/** Limits on what an organization may register (README "Custom event types"). */
export const MAX_SCHEMA_BYTES = 64 * 1024;
export const MAX_SCHEMA_DEPTH = 32;
export const MAX_EXAMPLES = 10;
export const MAX_TYPES_PER_ORG = 100;
export const MAX_UNIQUE_ITEMS = 1000;
/** How many of the latest accepted events of a type a schema change must still accept. */
export const COMPAT_HISTORY_EVENTS = 100;

export const DRAFT_2020_12 = 'https://json-schema.org/draft/2020-12/schema';

/** `category.action`, lower case, dot-separated, at most 64 characters. */
export const EVENT_TYPE_NAME = /^[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+$/;

/** A validator compiled once per organization + type + version. */
export type CompiledSchema = ValidateFunction<Record<string, unknown>>;

/**
 * One Ajv for every organization's schemas. Safe for hostile schemas: strict (unknown keywords, ambiguous types are
 * errors), the first error only (`allErrors: false`), no remote references (`loadSchema` unset; `$ref` must be
 * internal, checked by checkSchemaPolicy), no schema registration by `$id` (`addUsedSchema: false`, `$id` refused),
 * own properties only. Regular expressions (`pattern`, `patternProperties`) run in RE2 (re2js, linear time), never in
 * V8's backtracking engine: a pattern RE2 cannot run (backreferences, lookaround) makes the schema invalid.
 */
/** Ajv's regex engine: RE2 (linear time). JSON Schema patterns are unanchored, hence `test` (a search). */
function re2RegExp(pattern: string): RegExpLike {
  return RE2JS.compile(pattern);
}
re2RegExp.code = 're2js';

const ajv = new Ajv2020({
  strict: true,
  allowUnionTypes: true,
  allErrors: false,
  addUsedSchema: false,
  ownProperties: true,
  validateSchema: true,
  inlineRefs: true,
  unicodeRegExp: true,
  code: { optimize: true, regExp: re2RegExp },
});
(formats as unknown as (a: Ajv2020, o: object) => void)(ajv, { mode: 'fast' });

export class SchemaPolicyError extends Error {
  constructor(
    message: string,
    readonly details: ErrorDetail[],
  ) {
    super(message);
  }
}

const SUBSCHEMA = [
  'items',
  'contains',
  'additionalProperties',
  'propertyNames',
  'not',
  'if',
  'then',
  'else',
  'unevaluatedItems',
  'unevaluatedProperties',
  'contentSchema',
];
const SUBSCHEMA_MAPS = ['properties', '$defs', 'definitions', 'dependentSchemas'];
const SUBSCHEMA_ARRAYS = ['allOf', 'anyOf', 'oneOf', 'prefixItems'];

function pointer(path: string[]): string {
  return '#' + path.map((p) => '/' + p.replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

/** Structural rules Ajv itself does not enforce: internal refs only, no regexes, bounded depth and uniqueItems. */
function walk(node: unknown, path: string[], problems: ErrorDetail[]): void {
  if (problems.length >= 20 || typeof node === 'boolean') return;
  if (!node || typeof node !== 'object' || Array.isArray(node)) return; // Ajv reports the shape error.
  if (path.length > MAX_SCHEMA_DEPTH * 2) {
    problems.push({ field: 'schema', schemaPath: pointer(path), message: `nested deeper than ${MAX_SCHEMA_DEPTH} levels` });
    return;
  }
  const s = node as Record<string, unknown>;
  const at = (k: string) => pointer([...path, k]);
  for (const k of ['$ref', '$dynamicRef']) {
    if (k in s && (typeof s[k] !== 'string' || !(s[k] as string).startsWith('#'))) {
      problems.push({
        field: 'schema',
        schemaPath: at(k),
        message: `only internal references ("#…") are allowed, not ${JSON.stringify(s[k])}`,
      });
    }
  }
  if ('$id' in s)
    problems.push({ field: 'schema', schemaPath: at('$id'), message: '"$id" is not allowed (the type name identifies the schema)' });
  if ('$schema' in s && (path.length > 0 || s.$schema !== DRAFT_2020_12)) {
    problems.push({ field: 'schema', schemaPath: at('$schema'), message: `only "${DRAFT_2020_12}" at the root` });
  }
  if (s.uniqueItems === true && !(typeof s.maxItems === 'number' && s.maxItems <= MAX_UNIQUE_ITEMS)) {
    problems.push({
      field: 'schema',
      schemaPath: at('uniqueItems'),
      message: `"uniqueItems" needs "maxItems" ≤ ${MAX_UNIQUE_ITEMS} beside it`,
    });
  }
  for (const k of SUBSCHEMA) if (k in s) walk(s[k], [...path, k], problems);
  for (const k of SUBSCHEMA_MAPS) {
    const m = s[k];
    if (m && typeof m === 'object' && !Array.isArray(m))
      for (const [name, sub] of Object.entries(m)) walk(sub, [...path, k, name], problems);
  }
  for (const k of SUBSCHEMA_ARRAYS) {
    const a = s[k];
    if (Array.isArray(a)) a.forEach((sub, i) => walk(sub, [...path, k, String(i)], problems));
  }
}

/** Checks size and structure, then compiles; throws SchemaPolicyError (400/413) naming what is wrong. */
export function compileEventSchema(schema: unknown): CompiledSchema {
  if (!schema || typeof schema !== 'object' || Array.isArray(schema)) {
    throw new SchemaPolicyError('"schema" must be a JSON Schema object', [{ field: 'schema', message: 'must be an object' }]);
  }
  const s = schema as Record<string, unknown>;
  if (s.type !== 'object') {
    throw new SchemaPolicyError('The schema must describe an object ("type": "object"): event data is always a JSON object', [
      { field: 'schema.type', message: 'must be "object"' },
    ]);
  }
  const problems: ErrorDetail[] = [];
  walk(s, [], problems);
  if (problems.length)
    throw new SchemaPolicyError(`Schema refused: ${problems.map((p) => `${p.schemaPath}: ${p.message}`).join('; ')}`, problems);
  try {
    // A copy: Ajv keys its cache by the object, and callers keep theirs.
    return ajv.compile<Record<string, unknown>>(structuredClone(s));
  } catch (err) {
    const message = (err as Error).message;
    throw new SchemaPolicyError(`Invalid JSON Schema (draft 2020-12, strict): ${message}`, [{ field: 'schema', message }]);
  }
}

/** Drops a compiled schema from Ajv's cache (a replaced version). */
export function releaseEventSchema(validate: CompiledSchema): void {
  ajv.removeSchema(validate.schema as object);
}

/** The first failure of `validate` as error details (`field` names the failing data path, `instancePath` as Ajv gives it). */
export function validationFailures(validate: CompiledSchema, data: unknown, prefix = 'data'): ErrorDetail[] | null {
  if (validate(data)) return null;
  return (validate.errors ?? []).map((e) => detailOf(e, prefix));
}

function detailOf(e: ErrorObject, prefix: string): ErrorDetail {
  const segments = e.instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  const missing = e.keyword === 'required' ? (e.params as { missingProperty?: string }).missingProperty : undefined;
  if (missing !== undefined) segments.push(missing);
  return {
    field: [prefix, ...segments].filter(Boolean).join('.') || '(root)',
    message: e.message ?? e.keyword,
    instancePath: e.instancePath,
    schemaPath: e.schemaPath,
    keyword: e.keyword,
  };
}
