import { createHash } from 'node:crypto';
import type { EventEnvelope } from '../events/envelope.js';
import type { RedisKeys } from '../redis/keys.js';
import type { AttemptRecord, DeliveryKind } from './delivery.entity.js';
import type { RetryPolicy } from '../webhooks/webhook.entity.js';

/** The webhook capability's queues (BullMQ names, under the deployment's `{prefix}:bull` prefix). */
export const WEBHOOK_QUEUES = {
  /** Every delivery job with one log partition; with more, only jobs queued before the partition count was set. */
  delivery: 'webhook-delivery',
  /** Fan-out jobs of organizations beyond their fair share (DeliveryQueue.fairPriorities): the overflow lane. */
  overflow: 'webhook-overflow',
} as const;

/**
 * A delivery lane: `main` takes every delivery job of organizations within their fair share, and all retries, drains,
 * batch flushes and dead jobs; `overflow` takes the fan-out jobs queued beyond an organization's fair share, so a
 * flood waits in queues of its own, which worker processes of their own may work (WORKER_LANE).
 */
export type DeliveryLane = 'main' | 'overflow';
export const DELIVERY_LANES: readonly DeliveryLane[] = ['main', 'overflow'];

/** A BullMQ queue of the delivery capability: its name, its key prefix (which carries its hash tag) and its lane. */
export interface DeliveryQueueSpec {
  name: string;
  prefix: string;
  lane: DeliveryLane;
  /** One of a partitioned deployment's per-partition queues (they share a worker's WEBHOOK_CONCURRENCY). */
  perPartition: boolean;
}

/**
 * Every delivery queue: the deployment's `webhook-delivery`, then with EVENT_LOG_PARTITIONS > 1 one queue per
 * partition, `webhook-delivery-p<n>` under the partition's hash tag, which takes all the main-lane delivery jobs of the
 * partition's organizations (fan-outs, retries, drains, batch flushes, dead jobs), so the queue traffic spreads over the
 * cluster's masters like the log. The main queue is still worked, for jobs queued before the partition count was set.
 * Then the overflow lane's queues: `webhook-overflow`, or one `webhook-overflow-p<n>` per partition.
 */
export function deliveryQueueSpecs(keys: RedisKeys, partitions: number): DeliveryQueueSpec[] {
  const queuesOf = (name: string, lane: DeliveryLane): DeliveryQueueSpec[] =>
    partitions === 1
      ? [{ name, prefix: keys.bullPrefix(), lane, perPartition: false }]
      : Array.from({ length: partitions }, (_, p) => ({
          name: `${name}-p${p}`,
          prefix: keys.bullPrefix(keys.eventLogTag(p, partitions)),
          lane,
          perPartition: true,
        }));
  const legacy = { name: WEBHOOK_QUEUES.delivery, prefix: keys.bullPrefix(), lane: 'main' as const, perPartition: false };
  return [
    ...(partitions === 1 ? [] : [legacy]),
    ...queuesOf(WEBHOOK_QUEUES.delivery, 'main'),
    ...queuesOf(WEBHOOK_QUEUES.overflow, 'overflow'),
  ];
}

/** Injection token: the main-lane delivery queue of each log partition, by partition number (the main queue when there is one). */
export const FANOUT_QUEUES = Symbol('FANOUT_QUEUES');
/** Injection token: the overflow lane's queue of each log partition, by partition number. */
export const OVERFLOW_QUEUES = Symbol('OVERFLOW_QUEUES');
/** Injection token: every delivery queue, once each (deliveryQueueSpecs order). */
export const DELIVERY_QUEUES = Symbol('DELIVERY_QUEUES');

export const JOB_NAMES = { fanout: 'fanout', retry: 'retry', batchFlush: 'batch-flush', drain: 'drain', dead: 'dead' } as const;

/** The data of each job name of the delivery queue: processors dispatch on this map. */
export interface DeliveryJobs {
  [JOB_NAMES.fanout]: FanoutJobData;
  [JOB_NAMES.retry]: RetryJobData;
  [JOB_NAMES.batchFlush]: BatchFlushJobData;
  [JOB_NAMES.drain]: DrainJobData;
  [JOB_NAMES.dead]: DeadJobData;
}

/**
 * A delivery dead-lettered without a retry job of its own (fatal first attempt, or dead in a drain): added only to be
 * failed at once, so BullMQ's failed set (Bull Board) holds every DLQ entry; SQL stays the DLQ's queryable index.
 */
export interface DeadJobData extends RetryJobData {
  reason: string;
}

/** Sends a webhook endpoint's held deliveries (backlog) when it is available: one time slice per job. */
export interface DrainJobData {
  webhookId: string;
  organizationId: string;
}
export type DeliveryJobName = keyof DeliveryJobs;

/** The custom backoff type BullMQ calls our strategy for (retry jobs). */
export const WEBHOOK_BACKOFF = 'webhook';

export interface DeliveryTarget {
  webhookId: string;
  deliveryId: string;
  kind: DeliveryKind;
}

/** One matched event and the webhooks it goes to. */
export interface FanoutItem {
  event: EventEnvelope;
  targets: DeliveryTarget[];
  /** Trace context of the publish (attempts are spans of its trace). */
  traceparent?: string;
}

/** First attempts of one organization's matched events of one log batch (at most FANOUT_CHUNK deliveries), in one job. */
export interface FanoutJobData {
  organizationId: string;
  items: FanoutItem[];
}

/** Deliveries per fan-out job at most: a job amortises BullMQ's round trips; a bound keeps a job's run (and a re-run) short. */
export const FANOUT_CHUNK = 64;

/**
 * Splits a log batch's matched events into fan-out jobs: per organization, in log order, at most `max` deliveries each
 * (an event with more targets than that is split across jobs). Pure.
 */
export function chunkFanouts(items: readonly FanoutItem[], max = FANOUT_CHUNK): FanoutJobData[] {
  const byOrg = new Map<string, FanoutItem[]>();
  for (const item of items) {
    const org = item.event.organizationId;
    const list = byOrg.get(org);
    if (list) list.push(item);
    else byOrg.set(org, [item]);
  }
  const out: FanoutJobData[] = [];
  for (const [organizationId, list] of byOrg) {
    let current: FanoutJobData = { organizationId, items: [] };
    let size = 0;
    for (const item of list) {
      for (let from = 0; from < item.targets.length;) {
        if (size === max) {
          out.push(current);
          current = { organizationId, items: [] };
          size = 0;
        }
        const take = Math.min(max - size, item.targets.length - from);
        const targets = take === item.targets.length ? item.targets : item.targets.slice(from, from + take);
        current.items.push({ ...item, targets });
        size += take;
        from += take;
      }
    }
    if (size) out.push(current);
  }
  return out;
}

/** Deliveries in a fan-out job. */
export const fanoutSize = (data: FanoutJobData): number => data.items.reduce((n, i) => n + i.targets.length, 0);

/** Sends the events waiting in a batch webhook's list. */
export interface BatchFlushJobData {
  webhookId: string;
  organizationId: string;
}

/** Attempts 2…n of one delivery (BullMQ attempts + our backoff strategy). */
export interface RetryJobData {
  /** The event, or for a batch delivery the batch body's events. */
  event: EventEnvelope;
  batch?: EventEnvelope[];
  webhookId: string;
  /** The URL when the delivery started (for the log when the webhook is gone). */
  url: string;
  deliveryId: string;
  kind: DeliveryKind;
  /** The attempt number this job's first run makes (2 when it follows a failed first attempt). */
  firstAttempt: number;
  retry: RetryPolicy;
  /** Attempts so far (shown in the delivery log and the DLQ). */
  attempts: AttemptRecord[];
  createdAt: string;
  traceparent?: string;
}

const CROCKFORD = /^evt_([0-9A-HJKMNP-TV-Z]{10})/;

/**
 * The delivery id of an event's delivery to a webhook, derived from both: re-matching an event after a crash
 * yields the same id (and the same BullMQ job id), never a second delivery. Sorts by event time like newId().
 */
export function deliveryIdFor(eventId: string, webhookId: string): string {
  const time = CROCKFORD.exec(eventId)?.[1] ?? '0000000000';
  return `del_${time}${createHash('sha256').update(`${eventId}\n${webhookId}`).digest('hex').slice(0, 20).toUpperCase()}`;
}

/**
 * A fan-out job's id, from its contents (organization, first and last event, a hash of every delivery id): the same
 * log batch matched again after a crash yields the same jobs and ids, so BullMQ adds nothing twice.
 */
export function fanoutJobId(data: FanoutJobData): string {
  const hash = createHash('sha256');
  for (const item of data.items) for (const t of item.targets) hash.update(t.deliveryId);
  const first = data.items[0].event.id;
  const last = data.items[data.items.length - 1].event.id;
  return `fanout-${data.organizationId}-${first}-${last}-${hash.digest('hex').slice(0, 16)}`;
}
export const retryJobId = (deliveryId: string): string => `retry-${deliveryId}`;
export const deadJobId = (deliveryId: string): string => `dead-${deliveryId}`;
export const dlqIdFor = (deliveryId: string): string => `dlq_${deliveryId.slice('del_'.length)}`;
