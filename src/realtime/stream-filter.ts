import { z } from 'zod';
import type { Principal } from '../auth/principal.js';
import { ApiError } from '../common/api-error.js';
import { isEventId, streamIdFromEventId } from '../common/ids.js';
import { parseOrThrow } from '../common/validation.js';
import { EVENT_TYPES } from '../events/catalog.js';
import { TYPE_PATTERN_SYNTAX, type EventTypeDirectory } from '../events/event-type-directory.js';
import { anyTypeMatches, anyValueMatches, valueMatches, valuePatternSchema } from '../events/matching.js';

/** What one subscription wants; `null` = no constraint on that field. AND across fields, OR within a list. */
export interface StreamFilter {
  /** Exact types or patterns (`message.*`, `*`). */
  readonly types: readonly string[] | null;
  /** Matched against `data.companionId` (exact or `*` globs). */
  readonly companions: readonly string[] | null;
  /** Matched against `data.userId` (exact or `*` globs). */
  readonly userId: string | null;
}

export const MATCH_ALL: StreamFilter = { types: null, companions: null, userId: null };

export function filterMatches(f: StreamFilter, type: string, data: Record<string, unknown>): boolean {
  if (f.types && !anyTypeMatches(f.types, type)) return false;
  if (f.companions && !anyValueMatches(f.companions, data.companionId)) return false;
  return f.userId === null || valueMatches(f.userId, data.userId);
}

const CATEGORIES = new Set(EVENT_TYPES.map((t) => t.split('.')[0]));
const KNOWN_TYPES = new Set<string>(EVENT_TYPES);

/** An exact catalog type, `*`, or `<category>.*` for a category that exists. */
export function isKnownTypePattern(p: string): boolean {
  if (p === '*' || KNOWN_TYPES.has(p)) return true;
  return p.endsWith('.*') && CATEGORIES.has(p.slice(0, -2));
}

const MAX_LIST = 100;
const value = valuePatternSchema;
const unknownTypeMessage = (p: unknown) => `unknown event type "${String(p).slice(0, 64)}"; GET /api/v1/event-types lists them`;
/** Built-in patterns, or the syntax of an organization's own type (checked by assertKnownTypes once the organization is known). */
const typePattern = z
  .string()
  .refine((p) => isKnownTypePattern(p) || TYPE_PATTERN_SYNTAX.test(p), { error: (iss) => unknownTypeMessage(iss.input) });

/** 400 naming `<field>.<i>` for each pattern that is neither built-in nor one of the organization's own types/categories. */
export async function assertKnownTypes(
  directory: EventTypeDirectory,
  organizationId: string,
  types: readonly string[] | null | undefined,
  field: string,
): Promise<void> {
  if (!types?.length) return;
  const unknown = new Set(await directory.unknownPatterns(organizationId, types));
  if (!unknown.size) return;
  const details = types.flatMap((t, i) => (unknown.has(t) ? [{ field: `${field}.${i}`, message: unknownTypeMessage(t) }] : []));
  throw ApiError.badRequest(details.map((d) => `${d.field}: ${d.message}`).join('; '), details);
}

/** `a,b` or repeated `?x=a&x=b`; empty items dropped. */
const csv = (item: z.ZodType<string, string>) =>
  z
    .union([z.string(), z.array(z.string())])
    .transform((v) =>
      (Array.isArray(v) ? v : [v])
        .flatMap((s) => s.split(','))
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .pipe(z.array(item).max(MAX_LIST));

/** An empty query value (`?userId=`) means the parameter is not set. */
const optionalParam = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' ? undefined : v), schema.optional());

/** Query of `GET /api/v1/events/stream` and `/api/v1/ws`. */
export const streamQuerySchema = z.strictObject({
  companions: csv(value).optional(),
  events: csv(typePattern).optional(),
  userId: optionalParam(value),
  organizationId: optionalParam(z.string().max(64)),
  lastEventId: optionalParam(z.string().max(64)),
  access_token: z.string().optional(),
});

/** `subscribe` payload (raw WebSocket and Socket.IO); `lastEventId` replays what this subscription missed. */
export const subscribePayloadSchema = z.strictObject({
  events: z.array(typePattern).min(1).max(MAX_LIST).optional(),
  companions: z.array(value).min(1).max(MAX_LIST).optional(),
  userId: value.optional(),
  lastEventId: z.string().max(64).optional(),
});
export type SubscribePayload = z.output<typeof subscribePayloadSchema>;

export interface StreamRequest {
  filter: StreamFilter;
  /** Resume point (a stream id) or null to start live. */
  afterStreamId: string | null;
}

function toFilter(f: { events?: string[]; companions?: string[]; userId?: string }, defaults: StreamFilter = MATCH_ALL): StreamFilter {
  return {
    types: f.events?.length ? f.events : defaults.types,
    companions: f.companions?.length ? f.companions : defaults.companions,
    userId: f.userId ?? defaults.userId,
  };
}

/** `Last-Event-ID` / `lastEventId`: an `evt_…` id → its stream id (400 otherwise). */
export function resumePointOf(lastEventId: string | undefined | null): string | null {
  if (lastEventId === undefined || lastEventId === null || lastEventId === '') return null;
  const sid = isEventId(lastEventId) ? streamIdFromEventId(lastEventId) : null;
  if (!sid) throw new ApiError(400, 'invalid_last_event_id', `Last-Event-ID "${lastEventId.slice(0, 64)}" is not an event id (evt_…)`);
  return sid;
}

/**
 * Validates a stream query for this caller: 400 on bad filters or resume id, 403 when `organizationId` names
 * another organization (a key only ever streams its own organization's events).
 */
export function parseStreamQuery(query: unknown, principal: Principal, lastEventIdHeader?: string): StreamRequest {
  const q = parseOrThrow(streamQuerySchema, query ?? {});
  if (q.organizationId !== undefined && q.organizationId !== principal.organizationId) {
    throw ApiError.forbidden(`This API key belongs to another organization than "${q.organizationId}"`);
  }
  return { filter: toFilter(q), afterStreamId: resumePointOf(lastEventIdHeader || q.lastEventId) };
}

/** A `subscribe` payload; fields it leaves out fall back to the connection's query filters. */
export function filterFromPayload(payload: SubscribePayload, defaults: StreamFilter): StreamFilter {
  return toFilter(payload, defaults);
}
