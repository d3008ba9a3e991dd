// Example values from a JSON Schema (the event catalog's): a starting point for the "publish test event" editor.

const MAX_DEPTH = 6;

/** @typedef {Record<string, any>} JsonSchema a JSON Schema object, read loosely: any keyword may be absent */

/**
 * @param {JsonSchema} schema
 * @param {string} name
 */
function exampleString(schema, name) {
  if (schema.format === 'date-time') return new Date().toISOString();
  if (schema.format === 'email') return 'user@example.com';
  if (schema.format === 'uri' || schema.format === 'url') return 'https://example.com';
  if (name && /Id$/.test(name) && name.length > 2) return `${name.slice(0, -2)}-1`;
  const text = name || 'example';
  return typeof schema.minLength === 'number' && text.length < schema.minLength ? text.padEnd(schema.minLength, 'x') : text;
}

/**
 * @param {JsonSchema} schema
 * @param {boolean} integer
 */
function exampleNumber(schema, integer) {
  const min =
    typeof schema.minimum === 'number' ? schema.minimum : typeof schema.exclusiveMinimum === 'number' ? schema.exclusiveMinimum : undefined;
  const max =
    typeof schema.maximum === 'number' ? schema.maximum : typeof schema.exclusiveMaximum === 'number' ? schema.exclusiveMaximum : undefined;
  let value;
  if (min !== undefined && max !== undefined) value = (min + max) / 2;
  else if (min !== undefined) value = min + 1;
  else if (max !== undefined) value = Math.min(0, max - 1);
  else value = 1;
  return integer ? Math.round(value) : value;
}

/**
 * A value that satisfies `schema` in the common cases (types, enums, const, required, bounds, nested objects).
 * @param {unknown} schema
 * @returns {unknown}
 */
export function exampleFromSchema(schema, name = '', depth = 0) {
  if (!schema || typeof schema !== 'object' || depth > MAX_DEPTH) return null;
  const js = /** @type {JsonSchema} */ (schema);
  if ('const' in js) return js.const;
  if (Array.isArray(js.enum) && js.enum.length) return js.enum[0];
  if ('default' in js) return js.default;
  if (Array.isArray(js.examples) && js.examples.length) return js.examples[0];
  const alternatives = js.anyOf ?? js.oneOf;
  if (Array.isArray(alternatives) && alternatives.length) {
    const nonNull = alternatives.find((alt) => alt && alt.type !== 'null') ?? alternatives[0];
    return exampleFromSchema(nonNull, name, depth + 1);
  }
  if (Array.isArray(js.allOf) && js.allOf.length) {
    return Object.assign({}, ...js.allOf.map((/** @type {unknown} */ part) => exampleFromSchema(part, name, depth + 1)));
  }
  const type = Array.isArray(js.type) ? js.type.find((/** @type {string} */ t) => t !== 'null') : js.type;
  switch (type ?? (js.properties ? 'object' : undefined)) {
    case 'string':
      return exampleString(js, name);
    case 'integer':
      return exampleNumber(js, true);
    case 'number':
      return exampleNumber(js, false);
    case 'boolean':
      return false;
    case 'null':
      return null;
    case 'array':
      return js.items ? [exampleFromSchema(js.items, name, depth + 1)] : [];
    case 'object': {
      /** @type {Record<string, unknown>} */
      const out = {};
      for (const [key, sub] of Object.entries(js.properties ?? {})) out[key] = exampleFromSchema(sub, key, depth + 1);
      return out;
    }
    default:
      return null;
  }
}

/**
 * Example `data` for an event type's schema, without `timestamp` (the server fills it in).
 * @param {unknown} schema
 * @returns {Record<string, unknown>}
 */
export function exampleEventData(schema) {
  const data = exampleFromSchema(schema);
  if (!data || typeof data !== 'object' || Array.isArray(data)) return {};
  const { timestamp: _, ...rest } = /** @type {Record<string, unknown>} */ (data);
  return rest;
}
