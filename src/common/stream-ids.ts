/** Redis Stream ids are `<ms>-<seq>`: compare numerically, not as strings (both parts fit a double exactly). */
export function compareStreamIds(a: string, b: string): number {
  const da = a.indexOf('-');
  const db = b.indexOf('-');
  const ma = Number(a.slice(0, da));
  const mb = Number(b.slice(0, db));
  if (ma !== mb) return ma < mb ? -1 : 1;
  const sa = Number(a.slice(da + 1));
  const sb = Number(b.slice(db + 1));
  return sa === sb ? 0 : sa < sb ? -1 : 1;
}
