// Example values from a JSON Schema (the event catalog's): a starting point for the "publish test event" editor.

const MAX_DEPTH = 6;

function exampleString(schema, name) {
  if (schema.format === 'date-time') return new Date().toISOString();
  if (schema.format === 'email') return 'user@example.com';
  if (schema.format === 'uri' || schema.format === 'url') return 'https://example.com';
  if (name && /Id$/.test(name) && name.length > 2) return `${name.slice(0, -2)}-1`;
  const text = name || 'example';
  return typeof schema.minLength === 'number' && text.length < schema.minLength ? text.padEnd(schema.minLength, 'x') : text;
}

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

/** A value that satisfies `schema` in the common cases (types, enums, const, required, bounds, nested objects). */
export function exampleFromSchema(schema, name = '', depth = 0) {
  if (!schema || typeof schema !== 'object' || depth > MAX_DEPTH) return null;
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0];
  if ('default' in schema) return schema.default;
  if (Array.isArray(schema.examples) && schema.examples.length) return schema.examples[0];
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(alternatives) && alternatives.length) {
    const nonNull = alternatives.find((s) => s && s.type !== 'null') ?? alternatives[0];
    return exampleFromSchema(nonNull, name, depth + 1);
  }
  if (Array.isArray(schema.allOf) && schema.allOf.length) {
    return Object.assign({}, ...schema.allOf.map((s) => exampleFromSchema(s, name, depth + 1)));
  }
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  switch (type ?? (schema.properties ? 'object' : undefined)) {
    case 'string':
      return exampleString(schema, name);
    case 'integer':
      return exampleNumber(schema, true);
    case 'number':
      return exampleNumber(schema, false);
    case 'boolean':
      return false;
    case 'null':
      return null;
    case 'array':
      return schema.items ? [exampleFromSchema(schema.items, name, depth + 1)] : [];
    case 'object': {
      const out = {};
      for (const [key, sub] of Object.entries(schema.properties ?? {})) out[key] = exampleFromSchema(sub, key, depth + 1);
      return out;
    }
    default:
      return null;
  }
}

/** Example `data` for an event type's schema, without `timestamp` (the server fills it in). */
export function exampleEventData(schema) {
  const data = exampleFromSchema(schema);
  if (data && typeof data === 'object' && !Array.isArray(data)) delete data.timestamp;
  return data ?? {};
}
