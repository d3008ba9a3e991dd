import { readFileSync } from 'node:fs';
import type { RedisClient } from './redis.service.js';
import { execWithWait } from './replication.js';

/**
 * Typed access to the Lua scripts in `./scripts/*.lua` (each file's header names its KEYS and ARGV). Every key a script
 * touches is passed in KEYS, built by RedisKeys; keys of one call share a hash tag (see keys.ts).
 *
 * Scripts are registered with ioredis' defineCommand once per connection, on first use (EVALSHA, with EVAL as the
 * fallback after a SCRIPT FLUSH or a restart). The .lua files are read next to this module: `npm run build` copies
 * `src/redis/scripts/*.lua` to `dist/src/redis/scripts/`.
 */

/** Script name → its file and KEYS count (undefined: varies per call, passed as the first argument). */
export const SCRIPTS = {
  appendEvents: { command: 'humanaAppendEvents', file: 'append-events.lua', numberOfKeys: undefined },
  quotaAdmit: { command: 'humanaQuotaAdmit', file: 'quota-admit.lua', numberOfKeys: 6 },
  releaseLock: { command: 'humanaReleaseLock', file: 'release-lock.lua', numberOfKeys: 1 },
  endpointAdmit: { command: 'humanaEndpointAdmit', file: 'endpoint-admit.lua', numberOfKeys: undefined },
  endpointRecord: { command: 'humanaEndpointRecord', file: 'endpoint-record.lua', numberOfKeys: undefined },
  endpointGate: { command: 'humanaEndpointGate', file: 'endpoint-gate.lua', numberOfKeys: 1 },
  rateTake: { command: 'humanaRateTake', file: 'rate-take.lua', numberOfKeys: 1 },
  drainRelease: { command: 'humanaDrainRelease', file: 'drain-release.lua', numberOfKeys: 3 },
  drainPark: { command: 'humanaDrainPark', file: 'drain-park.lua', numberOfKeys: 2 },
  windowAdmit: { command: 'humanaWindowAdmit', file: 'window-admit.lua', numberOfKeys: 1 },
  fanoutFinish: { command: 'humanaFanoutFinish', file: 'fanout-finish.lua', numberOfKeys: 2 },
} as const;

export type ScriptName = keyof typeof SCRIPTS;

/** The source of a script, as shipped next to this module. */
export function scriptSource(name: ScriptName): string {
  const url = new URL(`./scripts/${SCRIPTS[name].file}`, import.meta.url);
  try {
    return readFileSync(url, 'utf8');
  } catch (err) {
    throw new Error(`Redis script ${url.pathname} is missing (npm run build copies src/redis/scripts/*.lua): ${(err as Error).message}`, {
      cause: err,
    });
  }
}

const sources = Object.fromEntries(Object.keys(SCRIPTS).map((name) => [name, scriptSource(name as ScriptName)])) as Record<
  ScriptName,
  string
>;

/** The commands defineCommand adds; only this module calls them. */
interface ScriptCommands {
  humanaAppendEvents(numberOfKeys: number, ...keysAndArgs: string[]): Promise<string[]>;
  humanaQuotaAdmit(...keysAndArgs: string[]): Promise<QuotaAdmitReply>;
  humanaReleaseLock(key: string, token: string): Promise<number>;
  humanaEndpointAdmit(numberOfKeys: number, ...keysAndArgs: string[]): Promise<number[]>;
  humanaEndpointRecord(numberOfKeys: number, ...keysAndArgs: string[]): Promise<number[]>;
  humanaEndpointGate(...keysAndArgs: string[]): Promise<[number, number]>;
  humanaRateTake(...keysAndArgs: string[]): Promise<number>;
  humanaDrainRelease(...keysAndArgs: string[]): Promise<number>;
  humanaDrainPark(...keysAndArgs: string[]): Promise<number>;
  humanaWindowAdmit(key: string, limit: string, expireAt: string): Promise<[number, number]>;
  humanaFanoutFinish(done: string, counter: string, deliveries: string, keepMs: string): Promise<number>;
}

const defined = new WeakSet<RedisClient>();

function withScripts(client: RedisClient): RedisClient & ScriptCommands {
  if (!defined.has(client)) {
    for (const [name, s] of Object.entries(SCRIPTS)) {
      const lua = sources[name as ScriptName];
      client.defineCommand(s.command, s.numberOfKeys === undefined ? { lua } : { lua, numberOfKeys: s.numberOfKeys });
    }
    defined.add(client);
  }
  return client as RedisClient & ScriptCommands;
}

// ── append-events.lua ─────────────────────────────────────────────────────────────────────────────────────────────

export interface AppendEntry {
  /** Full key of its idempotency record (RedisKeys.idempotency, same hash tag as the stream), if any. */
  idempotencyKey?: string;
  organizationId: string;
  type: string;
  timestamp: string;
  dataJson: string;
  traceparent?: string;
}

/**
 * Appends entries to the event log stream atomically, skipping those whose idempotency record exists. One reply per
 * entry: `'0' + streamId` when appended, `'1' + streamId\norg\ntype\nts\ndata` (the first append) for a duplicate.
 */
export async function appendEvents(
  client: RedisClient,
  stream: string,
  idempotencyTtlSeconds: number,
  entries: readonly AppendEntry[],
): Promise<string[]> {
  const [keys, args] = appendArguments(stream, idempotencyTtlSeconds, entries);
  return withScripts(client).humanaAppendEvents(keys.length, ...keys, ...args);
}

function appendArguments(stream: string, idempotencyTtlSeconds: number, entries: readonly AppendEntry[]): [keys: string[], args: string[]] {
  const keys = [stream];
  const args = [String(idempotencyTtlSeconds)];
  for (const e of entries) {
    let idemIndex = 0;
    if (e.idempotencyKey) idemIndex = keys.push(e.idempotencyKey); // 1-based index in KEYS
    args.push(String(idemIndex), e.organizationId, e.type, e.timestamp, e.dataJson, e.traceparent ?? '');
  }
  return [keys, args];
}

/** What a replicated append returns: the script's replies and how many replicas acknowledged it (WAIT's answer). */
export interface ReplicatedAppend {
  replies: string[];
  replicas: number;
}

/**
 * appendEvents followed by `WAIT replicas timeoutMs` in one pipeline on `client`: WAIT counts the replicas that
 * acknowledged every write this connection made, so the pipeline must reach the master holding the stream (a Cluster
 * routes a pipeline by the slot of its keys; WAIT has none). Use a connection of its own: WAIT blocks it meanwhile.
 *
 * A duplicate (the idempotency record exists) writes nothing, so WAIT alone would not cover the first append, made by
 * another connection: its idempotency records are then re-armed (EXPIRE, a write replicated after that first append)
 * and waited for. The replication stream is ordered, so a replica that has the EXPIRE has the event.
 */
export async function appendEventsReplicated(
  client: RedisClient,
  stream: string,
  idempotencyTtlSeconds: number,
  entries: readonly AppendEntry[],
  replicas: number,
  timeoutMs: number,
): Promise<ReplicatedAppend> {
  const [keys, args] = appendArguments(stream, idempotencyTtlSeconds, entries);
  const pipe = withScripts(client).pipeline() as ReturnType<RedisClient['pipeline']> & {
    humanaAppendEvents(n: number, ...a: string[]): unknown;
  };
  pipe.humanaAppendEvents(keys.length, ...keys, ...args);
  pipe.call('WAIT', replicas, timeoutMs);
  const [replies, acked] = await execWithWait<[string[], number]>(client, pipe);
  const duplicates = entries.filter((e, i) => e.idempotencyKey && replies[i][0] === '1').map((e) => e.idempotencyKey!);
  if (duplicates.length === 0) return { replies, replicas: acked };
  const again = client.pipeline();
  for (const key of new Set(duplicates)) again.expire(key, idempotencyTtlSeconds);
  again.call('WAIT', replicas, timeoutMs);
  const results = await execWithWait<unknown[]>(client, again);
  return { replies, replicas: Math.min(acked, Number(results[results.length - 1])) };
}

// ── quota-admit.lua ───────────────────────────────────────────────────────────────────────────────────────────────

/** [refused window (0 none, 1 minute, 2 month), used minute, used month, ...crossed flags ('w1', 'x2', …)]. */
export type QuotaAdmitReply = [number, number, number, ...string[]];

/** Keys of one organization's quota step, minute window first then month; all with one hash tag. */
export interface QuotaAdmitKeys {
  counters: readonly [minute: string, month: string];
  /** Warning and exceeded flags of each window. */
  flags: readonly [minute: { warning: string; exceeded: string }, month: { warning: string; exceeded: string }];
}

export interface QuotaAdmitArgs {
  count: number;
  /** 0 = no limit. */
  limits: readonly [minute: number, month: number];
  /** Unix seconds. */
  expireAt: readonly [minute: number, month: number];
}

export async function quotaAdmit(client: RedisClient, keys: QuotaAdmitKeys, args: QuotaAdmitArgs): Promise<QuotaAdmitReply> {
  const [fMinute, fMonth] = keys.flags;
  return withScripts(client).humanaQuotaAdmit(
    ...keys.counters,
    fMinute.warning,
    fMinute.exceeded,
    fMonth.warning,
    fMonth.exceeded,
    String(args.count),
    ...args.limits.map(String),
    ...args.expireAt.map(String),
  );
}

// ── fanout-finish.lua ─────────────────────────────────────────────────────────────────────────────────────────────

/**
 * A fan-out job's run is over: `deliveries` come off the organization's fair-share `counter` once per job (true when
 * this call did it), and its `done` hash expires after `keepMs`.
 */
export async function finishFanout(
  client: RedisClient,
  keys: { done: string; counter: string },
  deliveries: number,
  keepMs: number,
): Promise<boolean> {
  return (await withScripts(client).humanaFanoutFinish(keys.done, keys.counter, String(deliveries), String(keepMs))) === 1;
}

// ── release-lock.lua ──────────────────────────────────────────────────────────────────────────────────────────────

/** Deletes `lock` if it still holds `token`; true when released. */
export async function releaseLock(client: RedisClient, lock: string, token: string): Promise<boolean> {
  return (await withScripts(client).humanaReleaseLock(lock, token)) === 1;
}

// ── delivery engine: endpoint-*.lua, rate-take.lua, drain-release.lua ───────────────────────────────────────────────

/** The keys of one webhook endpoint's engine state (RedisKeys.webhook*, all with one hash tag). */
export interface EndpointKeys {
  health: string;
  backlog: string;
  backlogData: string;
  drain: string;
  rate: string;
  sequence: string;
}

export interface AdmitArgs {
  endpoint: EndpointKeys;
  member: string;
  score: number;
  /**
   * The held delivery's metadata (engine-decision's encodeHeldMeta) and the index of its event's JSON in the call's
   * `events`; left out when the delivery will most likely go now (the reply then says `needsMeta` if it would be held).
   */
  held?: { meta: string; event: number };
  ordered: boolean;
  perSecond: number;
  orderingKey: string;
}

export interface AdmitReply {
  held: boolean;
  /** Would be held, but its metadata was left out: nothing changed; admit it again with its metadata. */
  needsMeta: boolean;
  startDrain: boolean;
  /** Sequence number given to an ordered delivery (0: none). */
  sequence: number;
}

/** Numbers each distinct endpoint (1-based, by a key of it) for the multi-endpoint scripts' KEYS layout. */
function endpointNumbers(keys: readonly string[]): { numbers: number[]; distinct: number[] } {
  const seen = new Map<string, number>();
  const distinct: number[] = [];
  const numbers = keys.map((k, i) => {
    let n = seen.get(k);
    if (n === undefined) {
      n = distinct.push(i);
      seen.set(k, n);
    }
    return n;
  });
  return { numbers, distinct };
}

/**
 * Admits deliveries in order in one call (a whole fan-out job: any number of endpoints). Its keys must share a hash
 * tag: a fan-out job's endpoints are one organization's, so partitioning keys by organization keeps a call in one slot.
 */
export async function endpointAdmit(
  client: RedisClient,
  drainTtlMs: number,
  events: readonly string[],
  items: readonly AdmitArgs[],
): Promise<AdmitReply[]> {
  const { numbers, distinct } = endpointNumbers(items.map((a) => a.endpoint.health));
  const keys: string[] = [];
  for (const i of distinct) {
    const k = items[i].endpoint;
    keys.push(k.health, k.backlog, k.backlogData, k.drain, k.rate, k.sequence);
  }
  const args = [String(drainTtlMs), String(events.length), ...events];
  items.forEach((a, i) =>
    args.push(
      String(numbers[i]),
      a.member,
      String(a.score),
      a.held?.meta ?? '',
      a.held ? String(a.held.event + 1) : '0',
      a.ordered ? '1' : '0',
      String(a.perSecond),
      a.orderingKey,
    ),
  );
  const r = await withScripts(client).humanaEndpointAdmit(keys.length, ...keys, ...args);
  return items.map((_, i) => ({
    held: r[3 * i] === 1,
    needsMeta: r[3 * i] === 2,
    startDrain: r[3 * i + 1] === 1,
    sequence: r[3 * i + 2],
  }));
}

export interface RecordReply {
  consecutiveFailures: number;
  open: boolean;
  /** First failure since the last success, ms (null: none). */
  since: number | null;
  dead: number;
  now: number;
}

export interface RecordArgs {
  health: string;
  success: boolean;
  dead: boolean;
  failureThreshold: number;
  probeIntervalMs: number;
}

/** Records attempt outcomes in order in one call (a whole fan-out job: any number of endpoints). */
export async function endpointRecord(client: RedisClient, items: readonly RecordArgs[]): Promise<RecordReply[]> {
  const { numbers, distinct } = endpointNumbers(items.map((a) => a.health));
  const keys = distinct.map((i) => items[i].health);
  const args: string[] = [];
  items.forEach((a, i) =>
    args.push(String(numbers[i]), a.success ? '1' : '0', a.dead ? '1' : '0', String(a.failureThreshold), String(a.probeIntervalMs)),
  );
  const r = await withScripts(client).humanaEndpointRecord(keys.length, ...keys, ...args);
  return items.map((_, i) => {
    const [cf, open, since, dead, now] = r.slice(5 * i, 5 * i + 5);
    return { consecutiveFailures: cf, open: open === 1, since: since ? since : null, dead, now };
  });
}

export type GateReply = { status: 'paused' } | { status: 'closed' } | { status: 'probe' } | { status: 'open'; waitMs: number };

export async function endpointGate(client: RedisClient, health: string, probeIntervalMs: number): Promise<GateReply> {
  const [s, wait] = await withScripts(client).humanaEndpointGate(health, String(probeIntervalMs));
  return s === 0 ? { status: 'paused' } : s === 1 ? { status: 'closed' } : s === 2 ? { status: 'probe' } : { status: 'open', waitMs: wait };
}

/** 0 when a token was taken, else ms to wait. */
export function rateTake(client: RedisClient, rateKey: string, perSecond: number): Promise<number> {
  return withScripts(client).humanaRateTake(rateKey, String(perSecond));
}

/** True when the drain flag was cleared (backlog empty, or paused). */
export async function drainRelease(
  client: RedisClient,
  k: Pick<EndpointKeys, 'backlog' | 'drain' | 'health'>,
  ttlMs: number,
): Promise<boolean> {
  return (await withScripts(client).humanaDrainRelease(k.backlog, k.drain, k.health, String(ttlMs))) === 1;
}

/** True when the drain was parked (the backlog still has `seen` members); false when it changed meanwhile. */
export async function drainPark(
  client: RedisClient,
  k: Pick<EndpointKeys, 'backlog' | 'drain'>,
  seen: number,
  ttlMs: number,
): Promise<boolean> {
  return (await withScripts(client).humanaDrainPark(k.backlog, k.drain, String(seen), String(ttlMs))) === 1;
}

// ── window-admit.lua ──────────────────────────────────────────────────────────────────────────────────────────────

/** Counts one request in a fixed window unless `limit` is reached (then nothing is counted). */
export async function windowAdmit(
  client: RedisClient,
  counter: string,
  limit: number,
  expireAtSeconds: number,
): Promise<{ admitted: boolean; count: number }> {
  const [admitted, count] = await withScripts(client).humanaWindowAdmit(counter, String(limit), String(expireAtSeconds));
  return { admitted: admitted === 1, count };
}
