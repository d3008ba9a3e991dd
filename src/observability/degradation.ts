/**
 * Hysteresis for `performance.degraded`: a metric becomes degraded above its threshold and recovers only once it is
 * back below threshold × recoveryRatio, so a value hovering around the threshold does not flap.
 */
export function nextDegradedState(degraded: boolean, value: number, threshold: number, recoveryRatio: number): boolean {
  if (!degraded) return value > threshold;
  return value >= threshold * recoveryRatio;
}
