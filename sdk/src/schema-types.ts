// JSON Schema (draft 2020-12, the subset event types use) → TypeScript declarations. Used by
// scripts/generate-sdk-types.mjs (the built-in catalog) and by `humana-events types` (an organization's own types).
// Pure: no I/O, no dependencies. Whatever it cannot express becomes `unknown` with a comment, never an exception.

/** A JSON Schema as it arrives over the wire (booleans are schemas too). */
export type JsonSchema = boolean | { [keyword: string]: unknown };
type SchemaObject = { [keyword: string]: unknown };

/** Where `$ref`s resolve: the root's `$defs` (or `definitions`) as named types, `#` as the root's own name. */
export interface EmitContext {
  rootName: string;
  defs: Map<string, string>;
}

/** Structural keywords this emitter does not model; a schema made only of them is `unknown /* … *\/`. */
const UNSUPPORTED = ['not', 'if', 'then', 'else', 'dependentSchemas', '$dynamicRef', 'contains', 'unevaluatedProperties'];

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const key = (k: string) => (IDENT.test(k) ? k : JSON.stringify(k));
const pad = (n: number) => '  '.repeat(n);
const isObject = (s: unknown): s is SchemaObject => typeof s === 'object' && s !== null && !Array.isArray(s);
const commentSafe = (s: string) => s.replace(/\*\//g, '*\\/');
const unknownBecause = (why: string) => `unknown /* ${commentSafe(why)} */`;

/** `order.created` → `OrderCreated` (the part before `Data`, `Event`, …). */
export function pascalName(type: string): string {
  return type
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((p) => p[0].toUpperCase() + p.slice(1))
    .join('')
    .replace(/^(?=\d)/, '_');
}

function literal(v: unknown): string {
  return v === undefined ? 'undefined' : JSON.stringify(v);
}

/** A JSON Schema as a TypeScript type expression, indented for nesting level `depth`. */
export function tsType(s: JsonSchema | undefined, depth: number, ctx?: EmitContext): string {
  if (s === undefined || s === true) return 'unknown';
  if (s === false) return 'never';
  if (!isObject(s)) return unknownBecause('not a schema');
  if (Object.keys(s).length === 0) return 'unknown';
  if (typeof s.$ref === 'string') return refType(s.$ref, ctx);
  if (s.const !== undefined) return literal(s.const);
  if (Array.isArray(s.enum)) return s.enum.length ? s.enum.map(literal).join(' | ') : 'never';
  const alts = s.anyOf ?? s.oneOf;
  if (Array.isArray(alts)) return alts.length ? alts.map((a) => tsType(a as JsonSchema, depth, ctx)).join(' | ') : 'never';
  if (Array.isArray(s.allOf)) return s.allOf.map((a) => `(${tsType(a as JsonSchema, depth, ctx)})`).join(' & ');
  if (Array.isArray(s.type)) return s.type.map((t) => tsType({ ...s, type: t }, depth, ctx)).join(' | ');
  switch (s.type) {
    case 'string':
      return 'string';
    case 'number':
    case 'integer':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'null':
      return 'null';
    case 'array':
      return `Array<${tsType(s.items as JsonSchema | undefined, depth, ctx)}>`;
    case 'object':
      return objectType(s, depth, ctx);
    case undefined: {
      if (isObject(s.properties)) return objectType(s, depth, ctx);
      const unmodelled = UNSUPPORTED.filter((k) => k in s);
      return unmodelled.length ? unknownBecause(`unsupported: ${unmodelled.join(', ')}`) : 'unknown';
    }
    default:
      return unknownBecause(`unsupported type: ${JSON.stringify(s.type)}`);
  }
}

function refType(ref: string, ctx: EmitContext | undefined): string {
  if (ctx && ref === '#') return ctx.rootName;
  const m = /^#\/(?:\$defs|definitions)\/([^/]+)$/.exec(ref);
  const name = m && ctx?.defs.get(decodeURIComponent(m[1]).replace(/~1/g, '/').replace(/~0/g, '~'));
  return name ?? unknownBecause(`unsupported $ref: ${ref}`);
}

/** An object schema as a type literal (properties with JSDoc, `?` unless required). */
export function objectType(s: SchemaObject, depth: number, ctx?: EmitContext): string {
  const props = isObject(s.properties) ? s.properties : {};
  const required = new Set(Array.isArray(s.required) ? s.required : []);
  const lines: string[] = [];
  for (const [k, v] of Object.entries(props)) {
    const doc = docOf(v as JsonSchema);
    if (doc) lines.push(`${pad(depth + 1)}/** ${doc} */`);
    lines.push(`${pad(depth + 1)}${key(k)}${required.has(k) ? '' : '?'}: ${tsType(v as JsonSchema, depth + 1, ctx)};`);
  }
  const extra = s.additionalProperties as JsonSchema | undefined;
  if (extra !== undefined && extra !== false) {
    if (Object.keys(props).length === 0) return `Record<string, ${tsType(extra, depth + 1, ctx)}>`;
    lines.push(`${pad(depth + 1)}[key: string]: unknown;`);
  }
  if (lines.length === 0) return extra === false ? 'Record<string, never>' : 'Record<string, unknown>';
  return `{\n${lines.join('\n')}\n${pad(depth)}}`;
}

/** The JSDoc text of a property: its description and the constraints a type cannot carry. */
export function docOf(s: JsonSchema): string {
  if (!isObject(s)) return '';
  const parts: string[] = [];
  if (typeof s.description === 'string') parts.push(s.description);
  if (s.format) parts.push(`format: ${String(s.format)}`);
  if (s.minimum !== undefined) parts.push(`>= ${String(s.minimum)}`);
  if (s.maximum !== undefined && s.maximum !== Number.MAX_SAFE_INTEGER) parts.push(`<= ${String(s.maximum)}`);
  if (s.type === 'integer') parts.push('integer');
  return commentSafe(parts.join('; '));
}

/**
 * One named declaration for a schema: `export interface Name {…}` for an object schema, `export type Name = …;`
 * otherwise, preceded by its `$defs` (as `Name` + def name) so `$ref`s to them resolve, recursion included.
 */
export function declaration(name: string, schema: JsonSchema, doc?: string): string[] {
  const out: string[] = [];
  const defs = new Map<string, string>();
  const root = isObject(schema) ? schema : {};
  const defSchemas = { ...(isObject(root.definitions) ? root.definitions : {}), ...(isObject(root.$defs) ? root.$defs : {}) };
  const taken = new Set([name]);
  for (const def of Object.keys(defSchemas)) {
    let defName = `${name}${pascalName(def) || 'Def'}`;
    for (let i = 2; taken.has(defName); i++) defName = `${name}${pascalName(def) || 'Def'}${i}`;
    taken.add(defName);
    defs.set(def, defName);
  }
  const ctx: EmitContext = { rootName: name, defs };
  for (const [def, s] of Object.entries(defSchemas)) {
    const d = docOf(s as JsonSchema);
    if (d) out.push(`/** ${d} */`);
    out.push(`export type ${defs.get(def)} = ${tsType(s as JsonSchema, 0, ctx)};`, '');
  }
  if (doc) out.push(`/** ${commentSafe(doc)} */`);
  const body = tsType(schema, 0, ctx);
  out.push(body.startsWith('{\n') ? `export interface ${name} ${body}` : `export type ${name} = ${body};`);
  return out;
}

const FORMAT_SAMPLES: Record<string, string> = {
  'date-time': '2025-01-01T00:00:00.000Z',
  date: '2025-01-01',
  time: '00:00:00Z',
  email: 'user@example.com',
  uri: 'https://example.com/',
  uuid: '00000000-0000-4000-8000-000000000000',
  hostname: 'example.com',
  ipv4: '192.0.2.1',
};

/**
 * A value valid for the simple schemas event types use (the first alternative, required fields only, `minItems`
 * items, `$ref`s into the root's `$defs`): the CLI's `trigger` samples. `null` where it cannot tell.
 */
export function sample(s: JsonSchema | undefined, name = 'x', root: JsonSchema | undefined = s, depth = 0): unknown {
  if (!isObject(s) || depth > 32) return null;
  const next = (sub: unknown, n: string) => sample(sub as JsonSchema, n, root, depth + 1);
  if (typeof s.$ref === 'string') {
    const m = /^#(?:\/(\$defs|definitions)\/([^/]+))?$/.exec(s.$ref);
    if (!m || !isObject(root)) return null;
    const defs = m[1] ? root[m[1]] : undefined;
    return next(m[1] ? (isObject(defs) ? defs[decodeURIComponent(m[2])] : undefined) : root, name);
  }
  if (s.const !== undefined) return s.const;
  if (Array.isArray(s.enum)) return s.enum[0];
  const alts = s.anyOf ?? s.oneOf;
  if (Array.isArray(alts)) return next(alts[0], name);
  switch (Array.isArray(s.type) ? s.type[0] : s.type) {
    case 'string':
      return FORMAT_SAMPLES[String(s.format)] ?? `${name}-1`;
    case 'number':
    case 'integer':
      return s.minimum ?? 1;
    case 'boolean':
      return false;
    case 'array':
      return Array.from({ length: Math.min(Number(s.minItems) || 0, 10) }, () => next(s.items, name));
    case 'object': {
      const o: Record<string, unknown> = {};
      const props = isObject(s.properties) ? s.properties : {};
      for (const k of Array.isArray(s.required) ? (s.required as string[]) : []) o[k] = next(props[k], k);
      return o;
    }
    default:
      return null;
  }
}

/** What `humana-events types` is given: the event types of `GET /api/v1/event-types`. */
export interface TypeDefinition {
  type: string;
  description?: string;
  schema: JsonSchema;
  version?: number;
  builtIn?: boolean;
}

/**
 * A standalone TypeScript module for the given event types: one declaration per type (`OrderCreatedData`) and
 * `CustomEventDataMap` (type name → data), which `new HumanaEvents<CustomEventDataMap>(…)` takes.
 */
export function typesModule(types: readonly TypeDefinition[], header: string[]): string {
  const body = [...header.map((l) => `// ${l}`), '/* eslint-disable */', ''];
  const taken = new Set<string>();
  const names = new Map<string, string>();
  for (const t of [...types].sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0))) {
    let name = `${pascalName(t.type)}Data`;
    for (let i = 2; taken.has(name); i++) name = `${pascalName(t.type)}Data${i}`;
    taken.add(name);
    names.set(t.type, name);
    const version = t.version && !t.builtIn ? ` (version ${t.version})` : '';
    body.push(...declaration(name, t.schema, `\`${t.type}\`${version}${t.description ? `: ${t.description}` : ''}`), '');
  }
  body.push('/** Event type name → its `data`: `new HumanaEvents<CustomEventDataMap>(…)` type-checks `publish` against it. */');
  body.push('export interface CustomEventDataMap {');
  for (const [type, name] of names) body.push(`  ${JSON.stringify(type)}: ${name};`);
  body.push('}', '', 'export type CustomEventType = keyof CustomEventDataMap;', '');
  return body.join('\n');
}
