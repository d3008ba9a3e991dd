// Types for schema-example.js (used by the Node tests).
export declare function exampleFromSchema(schema: unknown, name?: string, depth?: number): unknown;
export declare function exampleEventData(schema: unknown): Record<string, unknown>;
