/**
 * The one place that spells Redis key names, key prefixes and pub/sub channel names.
 *
 * Layout: `{<REDIS_PREFIX>}:<feature>:<parts…>`. REDIS_PREFIX separates deployments and test runs sharing one Redis.
 *
 * Hash tags (Redis Cluster): a Lua script may only touch keys it is given in KEYS, and in a cluster those keys must
 * hash to one slot. The part of a key between `{…}` is its hash tag, so keys with the same tag share a slot.
 * - Today every key uses the deployment tag `{<prefix>}` (see {@link RedisKeys.tag}); the whole deployment lives in one
 *   slot, as it always has, so existing key names are unchanged.
 * - Functions that build keys used together in one script take the tag as a parameter (defaulting to the deployment
 *   tag): the event log with its idempotency records (append script) and an organization's quota counters and flags
 *   (quota script). The event log is partitioned by organization (EVENT_LOG_PARTITIONS): partition n of more than one
 *   uses the tag `{<prefix>:p<n>}` ({@link RedisKeys.eventLogTag}), so its stream, its idempotency records and its
 *   consumer groups share one slot and different partitions spread over the cluster's masters. With one partition
 *   the tag is the deployment tag: key names are those of an unpartitioned deployment.
 * - Delivery work goes to its organization's partition too: the delivery engine's keys of a webhook (health, backlog,
 *   drain, rate, sequences; the endpoint scripts touch several endpoints of one organization per call), its batch
 *   list, pending set and replay lock, the organization's fairness counter and its fan-out jobs' done hashes take the
 *   organization's partition tag (EventLog.organizationTag), like the BullMQ prefix of that partition's delivery queue.
 * - Keys never used together in a script (heartbeats, channels, the main BullMQ prefix) keep the deployment tag.
 */

/** A Redis Cluster hash tag, braces included: `{humana}` or `{humana:p7}`. */
export type HashTag = string & { readonly __hashTag: true };

export type QuotaFlagKind = 'warning' | 'exceeded';

export class RedisKeys {
  /** The deployment's hash tag, `{<prefix>}`. */
  readonly deploymentTag: HashTag;

  constructor(readonly prefix: string) {
    if (!/^[A-Za-z0-9:_-]+$/.test(prefix)) throw new Error(`Invalid Redis key prefix ${JSON.stringify(prefix)}`);
    this.deploymentTag = `{${prefix}}` as HashTag;
  }

  /** The deployment tag, or the tag of one partition of it (keys of one script call must share a tag). */
  tag(partition?: string): HashTag {
    return (partition === undefined ? this.deploymentTag : `{${this.prefix}:${partition}}`) as HashTag;
  }

  private join(tag: HashTag, ...parts: string[]): string {
    return [tag, ...parts].join(':');
  }

  // ── Event log (append script: the stream and its idempotency records share `tag`) ───────────────────────────────

  /** The tag of event log partition `partition` of `partitions` (the deployment tag when there is only one). */
  eventLogTag(partition: number, partitions: number): HashTag {
    return partitions === 1 ? this.deploymentTag : this.tag(`p${partition}`);
  }

  /** The partition count the event log was created with (EVENT_LOG_PARTITIONS; start-up refuses another one). */
  eventLogPartitions(): string {
    return this.join(this.deploymentTag, 'events', 'partitions');
  }

  /** The event log stream, or one partition's stream (history, webhooks and live streams read it). */
  eventLog(tag: HashTag = this.deploymentTag): string {
    return this.join(tag, 'events');
  }

  /** Idempotency record of one published event (TTL 24 h): `{tag}:idem:<org>:<key>`. */
  idempotency(organizationId: string, key: string, tag: HashTag = this.deploymentTag): string {
    return this.join(tag, 'idem', organizationId, key);
  }

  // ── Quotas (quota script: an organization's counters and threshold flags share `tag`) ───────────────────────────

  /** Events counted in one quota window (`metric` e.g. events_per_minute, `windowId` the period). */
  quotaCounter(organizationId: string, metric: string, windowId: string, tag: HashTag = this.deploymentTag): string {
    return this.join(tag, 'quota', organizationId, metric, windowId);
  }

  /** Set once when a window crosses a threshold under a given limit (the limit is part of the key: changing it re-arms). */
  quotaFlag(
    organizationId: string,
    metric: string,
    windowId: string,
    limit: number,
    kind: QuotaFlagKind,
    tag: HashTag = this.deploymentTag,
  ): string {
    return this.join(tag, 'quota-flag', organizationId, metric, windowId, String(limit), kind);
  }

  /** Channel: an API key was revoked (its open streams are closed on every API process). */
  keyRevokedChannel(): string {
    return this.join(this.deploymentTag, 'auth', 'key-revoked');
  }

  /** Channel: an organization's limits changed (message: the organization id). */
  limitsChangedChannel(): string {
    return this.join(this.deploymentTag, 'limits-changed');
  }

  // ── Event types (organizations' own catalog) ────────────────────────────────────────────────────────────────────

  /** Channel: an organization's event types changed (message: `<version>:<organizationId>`). */
  eventTypesChangedChannel(): string {
    return this.join(this.deploymentTag, 'event-types', 'changed');
  }

  /** Counter bumped on every event type change (any organization). */
  eventTypesVersion(): string {
    return this.join(this.deploymentTag, 'event-types', 'version');
  }

  // ── Webhooks and delivery ───────────────────────────────────────────────────────────────────────────────────────

  /** Channel: a webhook changed (message: `<version>:<webhookId>`). */
  webhooksChangedChannel(): string {
    return this.join(this.deploymentTag, 'webhooks', 'changed');
  }

  /** Counter bumped on every webhook change. */
  webhooksVersion(): string {
    return this.join(this.deploymentTag, 'webhooks', 'version');
  }

  /** List of envelopes waiting for a webhook's next batch. */
  webhookBatch(webhookId: string, tag: HashTag): string {
    return this.join(tag, 'webhooks', 'batch', webhookId);
  }

  /** Lock held by the one process flushing a webhook's batch (released by the release-lock script). */
  webhookBatchLock(webhookId: string, tag: HashTag): string {
    return this.join(tag, 'webhooks', 'batch-lock', webhookId);
  }

  /** Held while a range replay of the webhook is enqueuing (SET NX PX, released by the release-lock script). */
  webhookReplayLock(webhookId: string, tag: HashTag): string {
    return this.join(tag, 'webhooks', 'replay-lock', webhookId);
  }

  /** Range replays and bulk DLQ retries an organization started in one calendar minute (`windowId`). */
  replayRate(organizationId: string, windowId: string): string {
    return this.join(this.deploymentTag, 'replay-rate', organizationId, windowId);
  }

  /** Consecutive transform failures of a webhook (its `transformHealth`). */
  webhookTransformHealth(webhookId: string): string {
    return this.join(this.deploymentTag, 'webhooks', 'transform-health', webhookId);
  }

  /** Set of delivery ids queued and not yet finished for a webhook. */
  webhookPending(webhookId: string, tag: HashTag): string {
    return this.join(tag, 'webhooks', 'pending', webhookId);
  }

  // ── Delivery engine (endpoint scripts: the keys of one organization's webhooks share `tag`) ────────────────────

  /** Hash of one webhook's endpoint health: failures, last success/failure, circuit, paused (endpoint-health.ts). */
  webhookHealth(webhookId: string, tag: HashTag): string {
    return this.join(tag, 'webhooks', 'health', webhookId);
  }

  /** Sorted set of a webhook's held deliveries (`<eventId>|<deliveryId>`, by event time then id = log order). */
  webhookBacklog(webhookId: string, tag: HashTag): string {
    return this.join(tag, 'webhooks', 'backlog', webhookId);
  }

  /** Hash: backlog member → the held delivery (JSON). */
  webhookBacklogData(webhookId: string, tag: HashTag): string {
    return this.join(tag, 'webhooks', 'backlog-data', webhookId);
  }

  /** Set while a drain job of the webhook's backlog is scheduled or running (with a TTL: a lost job heals). */
  webhookDrain(webhookId: string, tag: HashTag): string {
    return this.join(tag, 'webhooks', 'drain', webhookId);
  }

  /** Lock held by the one drain job sending a webhook's backlog (released by the release-lock script). */
  webhookDrainLock(webhookId: string, tag: HashTag): string {
    return this.join(tag, 'webhooks', 'drain-lock', webhookId);
  }

  /** GCRA state (theoretical arrival time, ms) of a webhook's rate limit, shared by every worker. */
  webhookRate(webhookId: string, tag: HashTag): string {
    return this.join(tag, 'webhooks', 'rate', webhookId);
  }

  /** Hash: ordering key value → last `X-Humana-Sequence` number given out for a webhook. */
  webhookSequence(webhookId: string, tag: HashTag): string {
    return this.join(tag, 'webhooks', 'sequence', webhookId);
  }

  /** Deliveries in fan-out jobs of an organization queued and not finished (fairness: beyond a share they are deprioritized). */
  orgFanouts(organizationId: string, tag: HashTag): string {
    return this.join(tag, 'webhooks', 'org-fanouts', organizationId);
  }

  /** Hash: delivery id → `1` for each delivery of a running fan-out job already settled (a re-run skips them). */
  fanoutDone(jobId: string, tag: HashTag): string {
    return this.join(tag, 'webhooks', 'fanout-done', jobId);
  }

  /** Sorted set of delivery workers by last heartbeat (ms). */
  workerHeartbeats(): string {
    return this.join(this.deploymentTag, 'webhooks', 'workers');
  }

  /** Sorted set of the delivery workers that work one lane (`main`, `overflow`), by last heartbeat (ms). */
  laneHeartbeats(lane: string): string {
    return this.join(this.deploymentTag, 'webhooks', 'workers', lane);
  }

  /** BullMQ's `prefix` option of queues and workers: the deployment's, or a log partition's (its fan-out queue). */
  bullPrefix(tag: HashTag = this.deploymentTag): string {
    return this.join(tag, 'bull');
  }

  /** Written and WAITed for after fan-out jobs are added (REDIS_MIN_REPLICAS_ACK): same hash tag as their bullPrefix(tag). */
  fanoutReplicationMark(tag: HashTag): string {
    return this.join(tag, 'bull-replicated');
  }

  // ── Observability ───────────────────────────────────────────────────────────────────────────────────────────────

  /** Marker that an organization's performance metric is currently degraded. */
  performanceDegraded(organizationId: string, metric: string): string {
    return this.join(this.deploymentTag, 'perf-degraded', organizationId, metric);
  }

  // ── Real-time ───────────────────────────────────────────────────────────────────────────────────────────────────

  /** Sorted set of real-time instances by last heartbeat. */
  realtimeInstances(): string {
    return this.join(this.deploymentTag, 'rt', 'instances');
  }

  /** Hash of one instance's connection counts per organization. */
  realtimeConnections(instanceId: string): string {
    return this.join(this.deploymentTag, 'rt', 'conns', instanceId);
  }

  /** Stream name and channel prefix of the Socket.IO Redis Streams adapter. */
  socketIo(): string {
    return this.join(this.deploymentTag, 'socket.io');
  }

  /** A Socket.IO connection-state-recovery session. */
  socketIoSession(pid: string): string {
    return this.join(this.deploymentTag, 'socket.io', 'session', pid);
  }

  // ── Tooling ─────────────────────────────────────────────────────────────────────────────────────────────────────

  /** Keys of benchmark baselines (never used by the app). */
  bench(...parts: string[]): string {
    return this.join(this.deploymentTag, 'bench', ...parts);
  }
}
