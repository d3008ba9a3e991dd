export const SCOPES = [
  'events:write',
  'events:read',
  'streams:read',
  'webhooks:read',
  'webhooks:write',
  'dlq:manage',
  'audit:read',
] as const;

export type Scope = (typeof SCOPES)[number];
export const ALL_SCOPES: Scope[] = [...SCOPES];
