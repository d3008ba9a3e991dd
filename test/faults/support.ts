/** Shared knobs of the fault suite (not a test file: only `*.fault.js` files are run). */

/** Seconds of load per fault test: FAULT_SECONDS (CI sets a short value), default 12. */
export function faultSeconds(): number {
  const v = Number(process.env.FAULT_SECONDS ?? 12);
  return Number.isFinite(v) && v >= 3 ? v : 12;
}

/** Deterministic pseudo-random numbers for the fault schedule (FAULT_SEED), so a failing run can be replayed. */
export function seededRandom(seed = Number(process.env.FAULT_SEED ?? Date.now() % 100_000)): { next(): number; seed: number } {
  let s = seed >>> 0 || 1;
  return {
    seed,
    next: () => {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      return (s >>> 0) / 2 ** 32;
    },
  };
}
