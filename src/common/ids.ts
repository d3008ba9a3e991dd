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

/** Redis stream ids are `<ms>-<seq>`; event ids encode them so they sort by time and map back to the log position. */
const EVT_RE = /^evt_([0-9A-HJKMNP-TV-Z]{10})([0-9A-HJKMNP-TV-Z]{7})$/;

export function eventIdFromStreamId(streamId: string): string {
  const dash = streamId.indexOf('-');
  const ms = BigInt(streamId.slice(0, dash));
  const seq = BigInt(streamId.slice(dash + 1));
  return `evt_${encodeBase32(ms, 10)}${encodeBase32(seq, 7)}`;
}

export function streamIdFromEventId(eventId: string): string | null {
  const m = EVT_RE.exec(eventId);
  if (!m) return null;
  return `${decodeBase32(m[1])}-${decodeBase32(m[2])}`;
}

export function isEventId(s: string): boolean {
  return EVT_RE.test(s);
}

/** Lowest / highest event id of a millisecond: turns a time range into an id range. */
export function eventIdBound(ms: number, edge: 'low' | 'high'): string {
  return eventIdFromStreamId(`${ms}-${edge === 'low' ? 0 : 2 ** 35 - 1}`);
}

/** Random, prefixed, time-sortable ids for other resources (`wh_…`, `del_…`, `key_…`). */
export function newId(prefix: string): string {
  return `${prefix}_${encodeBase32(BigInt(Date.now()), 10)}${randomBytes(10).toString('hex').toUpperCase()}`;
}
