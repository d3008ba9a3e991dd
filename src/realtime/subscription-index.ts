import { filterMatches, type StreamFilter } from './stream-filter.js';

/** What the index hands matching events to (one per client connection; a connection may hold several subscriptions). */
export interface Subscriber {
  readonly organizationId: string;
  /** Dispatch marker: the index delivers an event at most once per subscriber even when several of its subscriptions match. */
  lastDispatch: number;
}

export interface Subscription<S extends Subscriber = Subscriber> {
  readonly id: string;
  readonly filter: StreamFilter;
  readonly subscriber: S;
}

class Bucket<S extends Subscriber> {
  readonly byUser = new Map<string, Set<Subscription<S>>>();
  readonly byCompanion = new Map<string, Set<Subscription<S>>>();
  readonly rest = new Set<Subscription<S>>();
  size = 0;
}

type Slot<S extends Subscriber> = Set<Subscription<S>>;

/** Where one subscription was placed: a keyed slot (`map` + `key`) or the bucket's `rest`. */
interface Placement<S extends Subscriber> {
  typeKey: string;
  bucket: Bucket<S>;
  slot: Slot<S>;
  map?: Map<string, Slot<S>>;
  key?: string;
}

const isExact = (v: string) => !v.includes('*');

/** `message.sent` → [`message.sent`, `message.*`, `*`]: the type keys whose buckets can hold a matching subscription. */
const typeKeyCache = new Map<string, string[]>();
function typeKeysOf(type: string): string[] {
  let keys = typeKeyCache.get(type);
  if (!keys) {
    keys = [type];
    for (let i = type.indexOf('.'); i >= 0; i = type.indexOf('.', i + 1)) keys.push(`${type.slice(0, i)}.*`);
    keys.push('*');
    typeKeyCache.set(type, keys);
  }
  return keys;
}

/**
 * Live subscriptions indexed by organization → type key (exact type, `category.*`, `*`) → user / companion,
 * so dispatching an event looks at the few subscriptions that can match instead of every connection.
 * Each subscription sits in the most selective slots its filter allows; the full filter is checked on the candidates.
 */
export class SubscriptionIndex<S extends Subscriber = Subscriber> {
  private readonly orgs = new Map<string, Map<string, Bucket<S>>>();
  private readonly placed = new Map<Subscription<S>, Placement<S>[]>();
  private dispatchSeq = 0;

  get size(): number {
    return this.placed.size;
  }

  add(sub: Subscription<S>): void {
    if (this.placed.has(sub)) return;
    const orgId = sub.subscriber.organizationId;
    let org = this.orgs.get(orgId);
    if (!org) this.orgs.set(orgId, (org = new Map()));
    const placements: Placement<S>[] = [];
    const { types, companions, userId } = sub.filter;
    for (const typeKey of new Set(types ?? ['*'])) {
      let bucket = org.get(typeKey);
      if (!bucket) org.set(typeKey, (bucket = new Bucket()));
      for (const p of placementsIn(bucket, typeKey, userId, companions)) {
        if (p.slot.has(sub)) continue;
        p.slot.add(sub);
        bucket.size++;
        placements.push(p);
      }
    }
    this.placed.set(sub, placements);
  }

  remove(sub: Subscription<S>): void {
    const placements = this.placed.get(sub);
    if (!placements) return;
    this.placed.delete(sub);
    const orgId = sub.subscriber.organizationId;
    const org = this.orgs.get(orgId)!;
    for (const { typeKey, bucket, slot, map, key } of placements) {
      slot.delete(sub);
      bucket.size--;
      if (map && slot.size === 0) map.delete(key!);
      if (bucket.size === 0) org.delete(typeKey);
    }
    if (org.size === 0) this.orgs.delete(orgId);
  }

  /** Calls `deliver` once per subscriber with at least one subscription matching the event. */
  dispatch(organizationId: string, type: string, data: Record<string, unknown>, deliver: (subscriber: S) => void): void {
    const org = this.orgs.get(organizationId);
    if (!org) return;
    const seq = ++this.dispatchSeq;
    const user = typeof data.userId === 'string' ? data.userId : undefined;
    const companion = typeof data.companionId === 'string' ? data.companionId : undefined;
    for (const typeKey of typeKeysOf(type)) {
      const bucket = org.get(typeKey);
      if (!bucket) continue;
      if (user !== undefined) this.visit(bucket.byUser.get(user), seq, type, data, deliver);
      if (companion !== undefined) this.visit(bucket.byCompanion.get(companion), seq, type, data, deliver);
      this.visit(bucket.rest, seq, type, data, deliver);
    }
  }

  private visit(slot: Slot<S> | undefined, seq: number, type: string, data: Record<string, unknown>, deliver: (s: S) => void): void {
    if (!slot) return;
    for (const sub of slot) {
      const s = sub.subscriber;
      if (s.lastDispatch === seq || !filterMatches(sub.filter, type, data)) continue;
      s.lastDispatch = seq;
      deliver(s);
    }
  }
}

/** A user filter is the most selective key, then companions; globs cannot be keyed and go to `rest`. */
function placementsIn<S extends Subscriber>(
  bucket: Bucket<S>,
  typeKey: string,
  userId: string | null,
  companions: readonly string[] | null,
): Placement<S>[] {
  const keyed = (map: Map<string, Slot<S>>, key: string): Placement<S> => {
    let slot = map.get(key);
    if (!slot) map.set(key, (slot = new Set()));
    return { typeKey, bucket, slot, map, key };
  };
  if (userId !== null && isExact(userId)) return [keyed(bucket.byUser, userId)];
  if (companions && companions.every(isExact)) return companions.map((c) => keyed(bucket.byCompanion, c));
  return [{ typeKey, bucket, slot: bucket.rest }];
}
