import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { z } from 'zod';
import { In, type Repository, type SelectQueryBuilder } from 'typeorm';
import { ApiError } from '../common/api-error.js';
import { newId } from '../common/ids.js';
import type { EventEnvelope } from '../events/envelope.js';
import { EventPublisher } from '../events/publisher.js';
import { keysetPage } from '../common/keyset-page.js';
import { viewOf } from '../webhooks/webhook-view.js';
import { Webhook } from '../webhooks/webhook.entity.js';
import type { AttemptRecord, DeliveryKind } from './delivery.entity.js';
import { DeliveryLog } from './delivery-log.js';
import { assertEnabled, DeliveryQueue } from './delivery-queue.js';
import { DlqEntry } from './dlq-entry.entity.js';
import { dlqIdFor } from './queues.js';
import { maskUrl } from '../destinations/url-mask.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { RedisService } from '../redis/redis.service.js';
import { admitMassReplay } from './replay-limits.js';

const iso = z.iso.datetime({ offset: true });

export const dlqFilterSchema = z.strictObject({
  webhookId: z.string().max(64).optional(),
  eventType: z.string().max(64).optional(),
  from: iso.optional(),
  to: iso.optional(),
});
export const dlqListSchema = dlqFilterSchema.extend({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(64).optional(),
});
export type DlqFilter = z.output<typeof dlqFilterSchema>;

/** The seed's FailedWebhook plus the ids that link it to the delivery log. */
export interface FailedWebhook {
  id: string;
  webhookId: string;
  deliveryId: string;
  originalWebhook: DlqEntry['originalWebhook'];
  event: DlqEntry['event'];
  attempts: AttemptRecord[];
  failureReason: string;
  createdAt: string;
  lastAttempt: string;
  /** The webhook as it is now: false when disabled, null when deleted. */
  webhookEnabled: boolean | null;
  /** Why `retry` would be refused now (409 with this code), or null. */
  retryBlockedReason: RetryBlockedReason | null;
}

export type RetryBlockedReason = 'webhook_disabled' | 'webhook_deleted';

export interface BulkRetryResult {
  retried: number;
  /** How many entries were left in the DLQ; `skippedEntries` says which and why. */
  skipped: number;
  skippedEntries: { id: string; webhookId: string; reason: string }[];
  deliveryIds: string[];
  /** True when more entries matched than one call retries (REPLAY_MAX_EVENTS): call again for the rest. */
  truncated: boolean;
}

function toFailed(e: DlqEntry, webhookEnabled: boolean | null): FailedWebhook {
  return {
    id: e.id,
    webhookId: e.webhookId,
    deliveryId: e.deliveryId,
    originalWebhook: e.originalWebhook,
    event: e.event,
    attempts: e.attempts,
    failureReason: e.failureReason,
    createdAt: e.createdAt,
    lastAttempt: e.lastAttempt,
    webhookEnabled,
    retryBlockedReason: webhookEnabled === null ? 'webhook_deleted' : webhookEnabled ? null : 'webhook_disabled',
  };
}

export interface Burial {
  webhook: Webhook;
  deliveryId: string;
  kind: DeliveryKind;
  event: EventEnvelope;
  batch?: EventEnvelope[];
  attempts: AttemptRecord[];
  reason: string;
}

/** The dead letter queue: SQL records of deliveries that failed for good, their retry and purge. */
@Injectable()
export class DeadLetters {
  private readonly logger = new Logger('DeadLetters');

  constructor(
    @InjectRepository(DlqEntry) private readonly entries: Repository<DlqEntry>,
    @InjectRepository(Webhook) private readonly webhooks: Repository<Webhook>,
    private readonly log: DeliveryLog,
    private readonly deliveries: DeliveryQueue,
    private readonly publisher: EventPublisher,
    private readonly redis: RedisService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Records a failed delivery (idempotent per delivery) and tells the organization with an `error.occurred` event,
   * except for deliveries of `error.occurred` events themselves (no feedback loop).
   */
  async bury(b: Burial): Promise<void> {
    const last = b.attempts[b.attempts.length - 1];
    const now = new Date().toISOString();
    const id = dlqIdFor(b.deliveryId);
    await this.log.recordDlq(
      Object.assign(new DlqEntry(), {
        id,
        organizationId: b.webhook.organizationId,
        webhookId: b.webhook.id,
        deliveryId: b.deliveryId,
        eventId: b.event.id,
        eventType: b.batch ? 'batch' : b.event.type,
        originalWebhook: viewOf(b.webhook),
        event: b.batch ? { events: b.batch } : b.event,
        attempts: b.attempts,
        failureReason: b.reason,
        createdAt: now,
        lastAttempt: last?.timestamp ?? now,
      }),
    );
    if (b.event.type === 'error.occurred' || b.kind === 'test') return;
    const message = `Webhook ${b.webhook.id} (${maskUrl(b.webhook.url)}) failed to deliver ${b.batch ? `a batch of ${b.batch.length} events` : `${b.event.type} ${b.event.id}`} after ${b.attempts.length} attempt(s): ${b.reason}`;
    await this.publisher
      .publishTyped(
        b.webhook.organizationId,
        'error.occurred',
        { errorId: id, type: 'integration', message, severity: 'high' },
        { system: true },
      )
      .catch((err: Error) => this.logger.warn(`error.occurred for ${id} not published: ${err.message}`));
  }

  private filtered(organizationId: string, f: DlqFilter): SelectQueryBuilder<DlqEntry> {
    const qb = this.entries.createQueryBuilder('d').where('d.organization_id = :org', { org: organizationId });
    if (f.webhookId) qb.andWhere('d.webhook_id = :wh', { wh: f.webhookId });
    if (f.eventType) qb.andWhere('d.event_type = :type', { type: f.eventType });
    if (f.from) qb.andWhere('d.created_at >= :from', { from: new Date(f.from).toISOString() });
    if (f.to) qb.andWhere('d.created_at <= :to', { to: new Date(f.to).toISOString() });
    return qb;
  }

  async list(
    organizationId: string,
    q: z.output<typeof dlqListSchema>,
  ): Promise<{ failedWebhooks: FailedWebhook[]; nextCursor: string | null }> {
    // Byte budget: an entry carries its event (or a whole batch) and every attempt, so `limit` alone does not bound a page.
    const budget = { maxBytes: this.config.pageMaxBytes, sizeOf: (e: DlqEntry) => Buffer.byteLength(JSON.stringify(e)) };
    const { items, nextCursor } = await keysetPage(this.filtered(organizationId, q), 'd', 'DESC', q.limit, q.cursor, (e) => e, budget);
    const ids = [...new Set(items.map((e) => e.webhookId))];
    const hooks = ids.length
      ? await this.webhooks.find({ select: { id: true, enabled: true }, where: { id: In(ids), organizationId } })
      : [];
    const enabled = new Map(hooks.map((w) => [w.id, w.enabled]));
    return { failedWebhooks: items.map((e) => toFailed(e, enabled.get(e.webhookId) ?? null)), nextCursor };
  }

  /** Delivers the entry again as a new delivery to the webhook as it is now, and removes it from the DLQ. */
  async retry(organizationId: string, id: string): Promise<{ deliveryId: string; entry: DlqEntry }> {
    const entry = await this.entries.findOneBy({ id, organizationId });
    if (!entry) throw ApiError.notFound('DLQ entry');
    return { deliveryId: await this.redeliver(entry), entry };
  }

  private async redeliver(entry: DlqEntry): Promise<string> {
    const webhook = await this.webhooks.findOneBy({ id: entry.webhookId, organizationId: entry.organizationId });
    if (!webhook) throw new ApiError(409, 'webhook_deleted', `Webhook ${entry.webhookId} no longer exists; the entry can only be purged`);
    assertEnabled(webhook);
    const deliveryId = newId('del');
    const batch = 'events' in entry.event ? entry.event.events : undefined;
    const event = batch ? batch[0] : (entry.event as EventEnvelope);
    await this.deliveries.addDeliveries(webhook, 'dlq_retry', [{ deliveryId, event, batch }]);
    await this.entries.delete({ id: entry.id });
    await this.deliveries.removeDead([entry]);
    return deliveryId;
  }

  /**
   * Retries every entry matching the filters (at most REPLAY_MAX_EVENTS per call, counted against the organization's
   * REPLAY_RATE_PER_MINUTE: 429); entries of disabled or deleted webhooks stay and are listed.
   */
  async retryMany(organizationId: string, f: DlqFilter): Promise<BulkRetryResult> {
    await admitMassReplay(this.redis, this.config, organizationId, 'dlq_retry');
    const max = this.config.replayMaxEvents;
    const found = await this.filtered(organizationId, f)
      .orderBy('d.id', 'ASC')
      .limit(max + 1)
      .getMany();
    const truncated = found.length > max;
    const rows = truncated ? found.slice(0, max) : found;
    const deliveryIds: string[] = [];
    const skippedEntries: BulkRetryResult['skippedEntries'] = [];
    for (const entry of rows) {
      try {
        deliveryIds.push(await this.redeliver(entry));
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        skippedEntries.push({ id: entry.id, webhookId: entry.webhookId, reason: err.code });
      }
    }
    return { retried: deliveryIds.length, skipped: skippedEntries.length, skippedEntries, deliveryIds, truncated };
  }

  /** Deletes entries created before `olderThan` (one organization, or all for the scheduled purge). */
  async purge(olderThan: Date, organizationId?: string): Promise<number> {
    const qb = this.entries.createQueryBuilder().delete().where('created_at < :cut', { cut: olderThan.toISOString() });
    if (organizationId) qb.andWhere('organization_id = :org', { org: organizationId });
    // The failed jobs of the purged entries go too (the failed set and the SQL index never disagree).
    const sel = this.entries
      .createQueryBuilder('d')
      .select('d.delivery_id', 'deliveryId')
      .addSelect('d.organization_id', 'organizationId')
      .where('d.created_at < :cut', { cut: olderThan.toISOString() });
    if (organizationId) sel.andWhere('d.organization_id = :org', { org: organizationId });
    await this.deliveries.removeDead(await sel.getRawMany<{ deliveryId: string; organizationId: string }>());
    const res = await qb.execute();
    return res.affected ?? 0;
  }
}
