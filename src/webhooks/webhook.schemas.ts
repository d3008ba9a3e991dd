import { z } from 'zod';
import { EVENT_TYPES, isEventType } from '../events/catalog.js';
import { TYPE_PATTERN_SYNTAX } from '../events/event-type-directory.js';
import { checkTransform, TransformError } from './transform.js';
import { valuePatternSchema } from '../events/matching.js';
import { FILTER_LIMITS, filterPathProblem } from './filters.js';
import { destinationUrlProblems } from '../destinations/schemes.js';
import { FORMATS } from '../destinations/formats.js';
import type { RetryPolicy } from './webhook.entity.js';

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 3, backoffMultiplier: 2, maxDelay: 300 };

const CATEGORIES = new Set(EVENT_TYPES.map((t) => t.split('.')[0]));

/** Built-in only: `message.sent`, `message.*` (a known category) or `*` (WebhooksService also accepts the organization's own types). */
export function isEventPattern(p: string): boolean {
  if (p === '*' || isEventType(p)) return true;
  return p.endsWith('.*') && CATEGORIES.has(p.slice(0, -2));
}

/** Header names we set (or that belong to the connection) and a webhook's own headers may not override. */
const RESERVED_EXACT = new Set([
  'content-type',
  'content-length',
  'host',
  'connection',
  'transfer-encoding',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
]);
export function isReservedHeader(name: string): boolean {
  const n = name.toLowerCase();
  return RESERVED_EXACT.has(n) || n.startsWith('x-humana-') || n.startsWith('webhook-');
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Keys that shadow Object.prototype members (zod itself drops `__proto__`). */
const notProtoKey = (k: string) => k !== '__proto__' && k !== 'constructor' && k !== 'prototype';

const url = z
  .string()
  .max(2048)
  .superRefine((v, ctx) => {
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be an absolute URL (http(s), amqp(s), nats, mqtt(s), redis(s) or smtp(s))' });
      return;
    }
    if (/[\r\n\t\0]/.test(v)) ctx.addIssue({ code: 'custom', message: 'must not contain control characters' });
    // Each scheme's own rules (required parameters, placeholders) live with its destination.
    for (const p of destinationUrlProblems(u))
      ctx.addIssue({ code: 'custom', path: p.field === 'url' ? [] : [p.field.slice('url.'.length)], message: p.message });
  });

export const UNKNOWN_PATTERN_MESSAGE =
  'unknown event type or pattern (GET /api/v1/event-types lists the types; patterns: "category.*", "*")';

/** Syntax only here: whether an organization's own type or category exists is checked by WebhooksService. */
const events = z
  .array(
    z
      .string()
      .max(64)
      .refine((p) => isEventPattern(p) || TYPE_PATTERN_SYNTAX.test(p), UNKNOWN_PATTERN_MESSAGE),
  )
  .min(1, 'at least one event type or pattern')
  .max(100);

const headers = z
  .record(
    z.string().min(1).max(256).refine(notProtoKey, 'reserved name'),
    z
      .string()
      .max(4096)
      .refine((v) => !/[\r\n\0]/.test(v), 'header values may not contain CR, LF or NUL'),
  )
  .superRefine((h, ctx) => {
    const names = Object.keys(h);
    if (names.length > 30) ctx.addIssue({ code: 'custom', message: 'at most 30 headers' });
    for (const name of names) {
      if (!TOKEN.test(name))
        ctx.addIssue({ code: 'custom', path: [name], message: 'not a valid header name (no spaces, CR, LF or separators)' });
      else if (isReservedHeader(name))
        ctx.addIssue({ code: 'custom', path: [name], message: `"${name}" is set by Humana Events and cannot be overridden` });
    }
  });

const filterValues = z
  .array(
    z.union([valuePatternSchema, z.number(), z.boolean()], {
      error: 'values are strings (with optional "*" wildcards), numbers or booleans',
    }),
  )
  .min(1, 'at least one value')
  .max(FILTER_LIMITS.values);

const RANGE = ['gte', 'gt', 'lte', 'lt'] as const;
const OPERATORS_HELP = 'a list of values or an operator object: {gte|gt|lte|lt: number} (combinable), {not: [values]}, {exists: boolean}';

const filterOperators = z
  .strictObject(
    {
      gte: z.number().optional(),
      gt: z.number().optional(),
      lte: z.number().optional(),
      lt: z.number().optional(),
      not: filterValues.optional(),
      exists: z.boolean().optional(),
    },
    { error: OPERATORS_HELP },
  )
  .superRefine((o, ctx) => {
    const keys = Object.keys(o);
    if (keys.length === 0) ctx.addIssue({ code: 'custom', message: `empty operator object; expected ${OPERATORS_HELP}` });
    else if (keys.length > 1 && !keys.every((k) => (RANGE as readonly string[]).includes(k))) {
      ctx.addIssue({ code: 'custom', message: '"not" and "exists" stand alone; only gte, gt, lte and lt combine' });
    }
  });

/** `{ "<dotted data path>": [values] | {operator} }`; see filters.ts for the matching rules. */
const filters = z
  .record(z.string(), z.union([filterValues, filterOperators], { error: OPERATORS_HELP }))
  .superRefine(
    (f, ctx) => {
      const paths = Object.keys(f);
      if (paths.length > FILTER_LIMITS.fields) ctx.addIssue({ code: 'custom', message: `at most ${FILTER_LIMITS.fields} filter fields` });
      for (const path of paths) {
        const problem = filterPathProblem(path);
        if (problem) ctx.addIssue({ code: 'custom', path: [path], message: problem });
      }
    },
    // Paths are checked even when a value failed, so one answer names every bad field.
    { when: (payload) => typeof payload.value === 'object' && payload.value !== null },
  )
  .meta({
    description: `Every field must hold. Keys are dotted paths into the event's data; values are ${OPERATORS_HELP}.`,
    examples: [{ severity: ['high', 'critical'], 'metadata.source': ['mobile'], processingTime: { gte: 2000 } }],
  });

const retry = z.strictObject({
  maxAttempts: z.number().int().min(1).max(20).default(DEFAULT_RETRY.maxAttempts),
  backoffMultiplier: z.number().min(1).max(10).default(DEFAULT_RETRY.backoffMultiplier),
  maxDelay: z.number().int().min(1).max(86_400).default(DEFAULT_RETRY.maxDelay),
});

const batch = z.strictObject({
  maxSize: z.number().int().min(1).max(1000),
  maxWaitMs: z.number().int().min(10).max(60_000),
});

const transform = z
  .string()
  .min(1)
  .max(10_000)
  .superRefine((expr, ctx) => {
    try {
      checkTransform(expr);
    } catch (err) {
      if (err instanceof TransformError) ctx.addIssue({ code: 'custom', message: `invalid JSONata: ${err.message}` });
      else throw err;
    }
  });

// ── Delivery engine options (contract section 8, docs/delivery-engine.md) ──
const circuitBreaker = z.strictObject({
  failureThreshold: z.number().int().min(1).max(1000).default(10),
  probeIntervalMs: z.number().int().min(100).max(86_400_000).default(30_000),
});
const autoDisable = z.strictObject({
  afterMs: z
    .number()
    .int()
    .min(0)
    .max(90 * 86_400_000)
    .default(432_000_000),
  minFailures: z.number().int().min(1).max(100_000).default(10),
});
const rateLimit = z.strictObject({ perSecond: z.number().min(1).max(10_000) });
const ordering = z.strictObject({
  key: z
    .string()
    .min(1)
    .max(128)
    .regex(/^(\*|[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*)$/, 'a dotted data path (e.g. "companionId", "user.id") or "*"'),
});
const variants = z
  .array(z.strictObject({ url, weight: z.number().int().min(1).max(1000) }))
  .min(1)
  .max(10);
const format = z.enum(FORMATS);

/** Options of the body formats: `routingKey` (PagerDuty integration key, required there), `source`, `severity`. */
const formatOptions = z.strictObject({
  routingKey: z.string().min(1).max(128).optional(),
  source: z.string().min(1).max(255).optional(),
  severity: z.enum(['critical', 'error', 'warning', 'info']).optional(),
});

export const secretSchema = z
  .string()
  .min(16, 'at least 16 characters')
  .max(256)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces')
  .refine((s) => !s.startsWith('whsec_') || /^whsec_[A-Za-z0-9+/]{16,}={0,2}$/.test(s), '"whsec_" secrets must be followed by base64');

const fields = {
  url,
  events,
  headers: headers.default({}),
  filters: filters.nullable().default(null),
  retry: retry.default(() => ({ ...DEFAULT_RETRY })),
  description: z.string().max(500).default(''),
  enabled: z.boolean().default(true),
  timeoutMs: z.number().int().min(100).max(60_000).default(10_000),
  batch: batch.nullable().default(null),
  transform: transform.nullable().default(null),
  circuitBreaker: circuitBreaker.default(() => ({ failureThreshold: 10, probeIntervalMs: 30_000 })),
  autoDisable: autoDisable.default(() => ({ afterMs: 432_000_000, minFailures: 10 })),
  rateLimit: rateLimit.nullable().default(null),
  ordering: ordering.nullable().default(null),
  variants: variants.nullable().default(null),
  format: format.default('standard'),
  formatOptions: formatOptions.nullable().default(null),
};

const noSecret = z.undefined({ error: 'secrets change only through POST /api/v1/webhooks/{id}/secret/rotate' });

/** POST: the seed's body plus description, enabled, timeoutMs, batch, transform. */
export const createWebhookSchema = z.strictObject({ ...fields, secret: secretSchema.optional() });
/** PUT: the whole configuration (the secret is kept). */
export const replaceWebhookSchema = z.strictObject({ ...fields, secret: noSecret.optional() });
/** PATCH: any subset; `retry` may itself be partial. */
export const patchWebhookSchema = z.strictObject({
  url: url.optional(),
  events: events.optional(),
  headers: headers.optional(),
  filters: filters.nullable().optional(),
  retry: retry.partial().optional(),
  description: z.string().max(500).optional(),
  enabled: z.boolean().optional(),
  timeoutMs: z.number().int().min(100).max(60_000).optional(),
  batch: batch.nullable().optional(),
  transform: transform.nullable().optional(),
  circuitBreaker: circuitBreaker.optional(),
  autoDisable: autoDisable.optional(),
  rateLimit: rateLimit.nullable().optional(),
  ordering: ordering.nullable().optional(),
  variants: variants.nullable().optional(),
  format: format.optional(),
  formatOptions: formatOptions.nullable().optional(),
  secret: noSecret.optional(),
});

/** Rules across fields, checked on the configuration as it will be stored (after a PATCH is merged). */
export function webhookConfigProblems(c: {
  url: string;
  format: string;
  formatOptions: { routingKey?: string } | null;
  batch: unknown;
  transform: string | null;
}): { field: string; message: string }[] {
  const problems: { field: string; message: string }[] = [];
  if (c.format === 'standard') return problems;
  if (!/^https?:/i.test(c.url)) problems.push({ field: 'format', message: `format "${c.format}" is for http(s) URLs` });
  if (c.batch) problems.push({ field: 'format', message: `format "${c.format}" cannot be combined with batch` });
  if (c.transform)
    problems.push({ field: 'format', message: `format "${c.format}" cannot be combined with transform (both produce the body)` });
  if (c.format === 'pagerduty' && !c.formatOptions?.routingKey)
    problems.push({ field: 'formatOptions.routingKey', message: 'required for format "pagerduty" (the integration key)' });
  return problems;
}

export type WebhookConfigInput = z.output<typeof replaceWebhookSchema>;
export type CreateWebhookInput = z.output<typeof createWebhookSchema>;
export type WebhookPatch = z.output<typeof patchWebhookSchema>;

export const listQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(64).optional(),
});

export const rotateSecretSchema = z.strictObject({ secret: secretSchema.optional() });

export const transformTestSchema = z.strictObject({
  transform,
  event: z.looseObject({ type: z.string(), data: z.record(z.string(), z.unknown()) }),
});
