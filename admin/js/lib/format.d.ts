// Types for format.js (used by the Node tests).
export declare function formatTime(value: unknown): string;
export declare function formatDuration(ms: unknown): string;
export declare function formatAgo(value: string | number | Date, now?: number): string;
export declare function formatNumber(n: unknown, digits?: number): string;
export declare function successPercent(rate: unknown): number | null;
export declare function formatPercent(p: unknown): string;
export declare function truncate(text: unknown, max?: number): string;
export declare function maskSecret(secret: unknown): string;
export declare function prettyJson(value: unknown): string;
