import { randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

function encodeBase32(n: bigint, width: number): string {
  let out = '';
  for (let i = 0; i < width; i++) {
    out = CROCKFORD[Number(n & 31n)] + out;
    n >>= 5n;
  }
  return out;
}

function decodeBase32(s: string): bigint {
  let n = 0n;
  for (const ch of s) {
    const v = CROCKFORD.indexOf(ch);
    if (v < 0) throw new Error('bad base32');
    n = (n << 5n) | BigInt(v);
  }
  return n;
}

/**
 * Redis stream ids are `<ms>-<seq>`; event ids encode them so they sort by time and map back to the log position:
 * `evt_<ms: 10><seq: 7>`, then `<partition: 2>` for an event of log partition 1 or higher (EVENT_LOG_PARTITIONS).
 * Partition 0 has no suffix, so with one partition ids are exactly as before partitioning. Ids sort by
 * (ms, seq, partition): a shorter id sorts before a longer one with the same first 17 characters.
 */
const EVT_RE = /^evt_([0-9A-HJKMNP-TV-Z]{10})([0-9A-HJKMNP-TV-Z]{7})([0-9A-HJKMNP-TV-Z]{2})?$/;

/** The largest partition number an event id can carry (two base-32 digits). */
export const MAX_ID_PARTITION = 32 * 32 - 1;

/** Where an event is in the log: its partition and its id in that partition's stream. */
export interface LogPosition {
  partition: number;
  streamId: string;
}

export function eventIdFromStreamId(streamId: string, partition = 0): string {
  if (!Number.isInteger(partition) || partition < 0 || partition > MAX_ID_PARTITION) throw new Error(`bad log partition ${partition}`);
  const dash = streamId.indexOf('-');
  const ms = BigInt(streamId.slice(0, dash));
  const seq = BigInt(streamId.slice(dash + 1));
  return `evt_${encodeBase32(ms, 10)}${encodeBase32(seq, 7)}${partition === 0 ? '' : encodeBase32(BigInt(partition), 2)}`;
}

/** An event id → its partition and stream id; null for anything else (a `00` suffix too: partition 0 has none). */
export function logPositionOf(eventId: string): LogPosition | null {
  const m = EVT_RE.exec(eventId);
  if (!m) return null;
  const partition = m[3] === undefined ? 0 : Number(decodeBase32(m[3]));
  if (m[3] !== undefined && partition === 0) return null;
  return { partition, streamId: `${decodeBase32(m[1])}-${decodeBase32(m[2])}` };
}

export function streamIdFromEventId(eventId: string): string | null {
  return logPositionOf(eventId)?.streamId ?? null;
}

export function isEventId(s: string): boolean {
  return logPositionOf(s) !== null;
}

/** Lowest / highest event id of a millisecond (any partition): turns a time range into an id range. */
export function eventIdBound(ms: number, edge: 'low' | 'high'): string {
  return edge === 'low' ? eventIdFromStreamId(`${ms}-0`) : eventIdFromStreamId(`${ms}-${2 ** 35 - 1}`, MAX_ID_PARTITION);
}

/** Random, prefixed, time-sortable ids for other resources (`wh_…`, `del_…`, `key_…`). */
export function newId(prefix: string): string {
  return `${prefix}_${encodeBase32(BigInt(Date.now()), 10)}${randomBytes(10).toString('hex').toUpperCase()}`;
}
