import { ApiResponse } from '@nestjs/swagger';
import { z } from 'zod';

/**
 * The response bodies the OpenAPI document describes, by component name. The console's and the SDK's types are
 * generated from it (scripts/generate-api-types.mjs), so these schemas are what a renamed field breaks.
 */
export const apiSchemas = z.registry<{ id: string }>();

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/**
 * Registers `schema` as component `id`, typed against `T`, the type the route's code returns: a field added, renamed
 * or retyped on either side without the other is a compile error (the rest parameter becomes required).
 */
export function responseSchema<T>() {
  return <S extends z.ZodType>(
    id: string,
    schema: S,
    ..._sameAsT: Same<z.output<S>, T> extends true ? [] : ['schema differs from type']
  ): S => {
    apiSchemas.add(schema, { id });
    return schema;
  };
}

/** `@ApiResponse` pointing at a registered schema's component. */
export function ApiJsonResponse(schema: z.ZodType, status = 200): MethodDecorator & ClassDecorator {
  const meta = apiSchemas.get(schema);
  if (!meta) throw new Error('ApiJsonResponse: the schema is not registered with responseSchema()');
  return ApiResponse({ status, schema: { $ref: `#/components/schemas/${meta.id}` } });
}

/** Every registered schema as OpenAPI 3.0 components (references between them kept as `$ref`). */
export function apiComponentSchemas(): Record<string, Record<string, unknown>> {
  const { schemas } = z.toJSONSchema(apiSchemas, {
    target: 'openapi-3.0',
    io: 'output',
    unrepresentable: 'any',
    uri: (id) => `#/components/schemas/${id}`,
  });
  return Object.fromEntries(
    Object.entries(schemas).map(([id, { $id: _, ...schema }]) => [id, nullableEnums(schema) as Record<string, unknown>]),
  );
}

/** OpenAPI 3.0.3: `nullable` does not extend an `enum`, so a nullable enum must list null itself (validators follow). */
function nullableEnums(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(nullableEnums);
  if (!schema || typeof schema !== 'object') return schema;
  const out = Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, nullableEnums(v)]));
  if (out.nullable === true && Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...(out.enum as unknown[]), null];
  return out;
}

/**
 * A value typed as `T` in TypeScript whose JSON Schema is given (default: any JSON), for structures zod cannot
 * express or that are documented elsewhere (webhook filters, an event type name).
 */
export const opaque = <T>(jsonSchema: Record<string, unknown> = {}) => z.custom<T>(() => true).meta(jsonSchema);
