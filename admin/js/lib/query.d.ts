// Types for query.js (used by the Node tests).
export declare function toQuery(params: Record<string, unknown> | undefined): string;
export declare function localInputToIso(value: string): string | null;
export declare function splitList(text: unknown): string[];
export declare function parseJsonObject(text: unknown): { value?: Record<string, unknown>; error?: string };
