import { Injectable } from '@nestjs/common';
import type { ErrorDetail } from '../common/api-error.js';
import { EVENT_TYPES, isEventType } from './catalog.js';

/** An organization's own event type, as the publisher needs it. */
export interface CustomEventType {
  readonly name: string;
  readonly version: number;
  /** `null` when `data` is valid, else the failures (each naming the failing path). */
  validate(data: Record<string, unknown>): ErrorDetail[] | null;
}

/** Supplies an organization's own event types (registered by the event-types feature). */
export interface EventTypeResolver {
  /** The organization's types by name; cached by the resolver, may read its store. */
  typesOf(organizationId: string): Promise<ReadonlyMap<string, CustomEventType>>;
}

/** Who references an exact event type (webhooks register one): ids of the referencing resources. */
export type EventTypeReferenceSource = (organizationId: string, type: string) => Promise<string[]>;

const BUILT_IN_CATEGORIES = new Set(EVENT_TYPES.map((t) => t.split('.')[0]));
const NO_TYPES: ReadonlyMap<string, CustomEventType> = new Map();

/** `*`, `category.*` or a dotted name: what a pattern must look like before it is looked up. */
export const TYPE_PATTERN_SYNTAX = /^(?:\*|[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*\.\*|[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+)$/;

/**
 * The seam through which the event catalog is extended per organization: the built-in catalog (catalog.ts) plus, when
 * a resolver is registered, each organization's own types. Publisher, webhooks and live streams ask it; events never
 * imports the feature that registers the resolver.
 */
@Injectable()
export class EventTypeDirectory {
  private resolver: EventTypeResolver | null = null;
  private referenceSources: EventTypeReferenceSource[] = [];

  setResolver(resolver: EventTypeResolver): void {
    this.resolver = resolver;
  }

  addReferenceSource(source: EventTypeReferenceSource): void {
    this.referenceSources.push(source);
  }

  /** The organization's own types (empty without a resolver). */
  customTypes(organizationId: string): Promise<ReadonlyMap<string, CustomEventType>> {
    return this.resolver ? this.resolver.typesOf(organizationId) : Promise.resolve(NO_TYPES);
  }

  /** Ids of resources (webhooks) that name `type` exactly. */
  async referencesTo(organizationId: string, type: string): Promise<string[]> {
    const all = await Promise.all(this.referenceSources.map((s) => s(organizationId, type)));
    return all.flat();
  }

  /** The patterns among `patterns` that name no built-in or own type/category (`*` always matches). */
  async unknownPatterns(organizationId: string, patterns: readonly string[]): Promise<string[]> {
    const unresolved = patterns.filter((p) => !isBuiltInPattern(p));
    if (!unresolved.length) return [];
    const own = await this.customTypes(organizationId);
    return unresolved.filter((p) => !TYPE_PATTERN_SYNTAX.test(p) || !ownPatternMatches(own, p));
  }
}

/** `*`, a built-in type or `<built-in category>.*`. */
export function isBuiltInPattern(p: string): boolean {
  if (p === '*' || isEventType(p)) return true;
  return p.endsWith('.*') && BUILT_IN_CATEGORIES.has(p.slice(0, -2));
}

function ownPatternMatches(own: ReadonlyMap<string, CustomEventType>, p: string): boolean {
  if (!p.endsWith('.*')) return own.has(p);
  const prefix = p.slice(0, -1);
  for (const name of own.keys()) if (name.startsWith(prefix)) return true;
  return false;
}
