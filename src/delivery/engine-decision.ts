import { createHash } from 'node:crypto';
import { streamIdFromEventId } from '../common/ids.js';
import type { EventEnvelope } from '../events/envelope.js';
import type { OrderingOptions } from '../webhooks/webhook.entity.js';
import type { AttemptRecord, DeliveryKind } from './delivery.entity.js';

/**
 * A delivery held in a webhook endpoint's backlog (paused, circuit open, rate-limited, ordered, or behind older held
 * deliveries). Stored as `<meta JSON>\n<event JSON>` so the hot path reuses the event's one serialisation.
 */
export interface HeldDelivery {
  deliveryId: string;
  kind: DeliveryKind;
  event: EventEnvelope;
  batch?: EventEnvelope[];
  attempts: AttemptRecord[];
  createdAt: string;
  url: string;
  traceparent?: string;
  /** Ordering key value (ordered endpoints). */
  orderKey?: string;
  /** Not attempted before this time (ms): an ordered delivery waiting for its retry. */
  notBefore?: number;
  /** X-Humana-Sequence, given at match time (ordered endpoints). */
  sequence?: number;
}

type Meta = Omit<HeldDelivery, 'event'>;

export function encodeHeld(d: HeldDelivery, eventJson?: string): string {
  return `${encodeHeldMeta(d)}\n${eventJson ?? JSON.stringify(d.event)}`;
}

/** The part of encodeHeld before the newline (the admit script appends the event's JSON, sent once per event). */
export function encodeHeldMeta(d: HeldDelivery): string {
  const { event: _event, ...meta } = d;
  return JSON.stringify(meta);
}

export function decodeHeld(s: string): HeldDelivery {
  const nl = s.indexOf('\n');
  const meta = JSON.parse(s.slice(0, nl)) as Meta;
  return { ...meta, event: JSON.parse(s.slice(nl + 1)) as EventEnvelope };
}

/** Backlog member: sorts by event id (= log position) within a score, then by delivery id. */
export const backlogMember = (eventId: string, deliveryId: string): string => `${eventId}|${deliveryId}`;

/** Backlog score: the event's log time (ms), from its id when it is a log id, else its timestamp. */
export function backlogScore(event: Pick<EventEnvelope, 'id' | 'timestamp'>): number {
  const sid = streamIdFromEventId(event.id);
  if (sid) return Number(sid.slice(0, sid.indexOf('-')));
  const t = Date.parse(event.timestamp);
  return Number.isNaN(t) ? Date.now() : t;
}

/** The value of a dotted path in the event's data, as an ordering key ('*' = one key for the whole endpoint). */
export function orderingKeyOf(ordering: OrderingOptions, data: Record<string, unknown>): string {
  if (ordering.key === '*') return '*';
  let v: unknown = data;
  for (const part of ordering.key.split('.')) {
    if (v === null || typeof v !== 'object') return '';
    v = (v as Record<string, unknown>)[part];
  }
  if (v === undefined || v === null) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

export type Pick_ = { kind: 'send'; index: number } | { kind: 'wait'; ms: number } | { kind: 'empty' };

/**
 * Which held delivery a drain sends next, in log order. Unordered: the oldest. Ordered: the oldest whose key is not
 * held back by an older delivery of the same key still waiting for its retry (other keys keep flowing). Pure.
 */
export function pickNext(items: readonly Pick<HeldDelivery, 'orderKey' | 'notBefore'>[], ordered: boolean, now: number): Pick_ {
  if (!items.length) return { kind: 'empty' };
  if (!ordered) return { kind: 'send', index: 0 };
  const blocked = new Set<string>();
  let wait = Infinity;
  for (let i = 0; i < items.length; i++) {
    const key = items[i].orderKey ?? '';
    if (blocked.has(key)) continue;
    const nb = items[i].notBefore ?? 0;
    if (nb <= now) return { kind: 'send', index: i };
    blocked.add(key);
    wait = Math.min(wait, nb - now);
  }
  return { kind: 'wait', ms: Number.isFinite(wait) ? wait : 1000 };
}

/** A/B variant by weight, deterministic from the delivery id (every attempt of a delivery picks the same). Pure. */
export function variantFor<V extends { weight: number }>(variants: readonly V[], deliveryId: string): V {
  const h = createHash('sha256').update(deliveryId).digest().readUInt32BE(0);
  const total = variants.reduce((s, v) => s + v.weight, 0);
  let r = (h / 2 ** 32) * total;
  for (const v of variants) {
    if (r < v.weight) return v;
    r -= v.weight;
  }
  return variants[variants.length - 1];
}
