import { nowMs } from '../../test/support/time.js';

/**
 * Open-loop fixed-rate schedule: calls fire(k, scheduledMs) at startMs + k·intervalMs for k < count, never waiting for
 * earlier calls to finish. Latency measured from scheduledMs is therefore free of coordinated omission: when the system
 * stalls, the requests it delays still count from the moment they should have been sent.
 */
export function openLoop(
  count: number,
  intervalMs: number,
  startMs: number,
  fire: (k: number, scheduledMs: number) => void,
): Promise<void> {
  return new Promise((resolve) => {
    let k = 0;
    const tick = () => {
      const now = nowMs();
      while (k < count && startMs + k * intervalMs <= now) {
        fire(k, startMs + k * intervalMs);
        k++;
      }
      if (k >= count) return resolve();
      setTimeout(tick, Math.max(0, startMs + k * intervalMs - nowMs()));
    };
    tick();
  });
}
