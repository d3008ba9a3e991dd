/**
 * Which event log partition an organization's events go to: FNV-1a (32 bit) of its id's UTF-8 bytes, modulo the
 * partition count. Stable across processes, restarts and versions (it must be: the partition is part of every event
 * id and of every resume point); one organization always lands in one partition, so its order, idempotency and
 * resume are those of one stream.
 */
export function partitionOf(organizationId: string, partitions: number): number {
  if (partitions <= 1) return 0;
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(organizationId, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % partitions;
}

/** What start-up does about the partition count stored in Redis (see partitionCountCheck). */
export type PartitionCountCheck =
  { action: 'keep' } | { action: 'record' } | { action: 'override'; message: string } | { action: 'refuse'; message: string };

/**
 * Start-up decision: `stored` is the count recorded by the first start (null: none yet), `configured` is
 * EVENT_LOG_PARTITIONS. A different count moves organizations to other partitions, which breaks resume from ids issued
 * before and the log order of organizations in flight, so it is refused unless EVENT_LOG_PARTITIONS_FORCE is set.
 */
export function partitionCountCheck(stored: number | null, configured: number, force: boolean): PartitionCountCheck {
  if (stored === null) return { action: 'record' };
  if (stored === configured) return { action: 'keep' };
  const change = `EVENT_LOG_PARTITIONS=${configured} but this deployment's event log has ${stored} partition(s)`;
  if (force) return { action: 'override', message: `${change}: EVENT_LOG_PARTITIONS_FORCE=true, recording ${configured}` };
  return {
    action: 'refuse',
    message:
      `${change}; changing it moves organizations to other partitions (see docs/scaling.md: drain, then restart with ` +
      `EVENT_LOG_PARTITIONS_FORCE=true), or set EVENT_LOG_PARTITIONS=${stored}`,
  };
}
