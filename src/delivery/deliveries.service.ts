import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { z } from 'zod';
import type { Repository } from 'typeorm';
import { ApiError } from '../common/api-error.js';
import { eventIdBound, newId } from '../common/ids.js';
import type { EventEnvelope } from '../events/envelope.js';
import { HistoryService } from '../events/history.service.js';
import { keysetPage } from '../common/keyset-page.js';
import { CompiledWebhook } from '../webhooks/webhook-index.js';
import type { Webhook } from '../webhooks/webhook.entity.js';
import { Delivery, type AttemptRecord, type DeliveryStatus } from './delivery.entity.js';
import { DeliveryExecutor } from './delivery-executor.js';
import { DeliveryLog } from './delivery-log.js';
import { assertEnabled, DeliveryQueue } from './delivery-queue.js';
import { deliveryRow } from './delivery-rows.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { RedisService } from '../redis/redis.service.js';
import { admitMassReplay, withReplayLock } from './replay-limits.js';

export const deliveryListSchema = z.strictObject({
  status: z.enum(['pending', 'success', 'retrying', 'failed']).optional(),
  eventType: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(64).optional(),
});

export const eventDeliveryListSchema = deliveryListSchema.pick({ limit: true, cursor: true });

const iso = z.iso.datetime({ offset: true });
export const replayRangeSchema = z
  .strictObject({ from: iso, to: iso, eventTypes: z.array(z.string().min(1).max(64)).min(1).max(100).optional() })
  .refine((r) => Date.parse(r.from) <= Date.parse(r.to), { message: '"from" must not be after "to"', path: ['to'] });

/** The seed's delivery shape. */
export interface DeliverySummary {
  id: string;
  webhookId: string;
  eventId: string;
  event: string;
  url: string;
  status: DeliveryStatus;
  statusCode: number | null;
  duration: number | null;
  attempts: number;
  timestamp: string;
  kind: Delivery['kind'];
  error: string | null;
  nextAttemptAt: string | null;
  /** A/B variant URL (webhook option `variants`) and X-Humana-Sequence (option `ordering`), when set. */
  variant: string | null;
  sequence: number | null;
}

export interface DeliveryDetail extends DeliverySummary {
  eventPublishedAt: string;
  succeededAt: string | null;
  attemptHistory: AttemptRecord[];
}

export interface TestResult {
  success: boolean;
  statusCode: number | null;
  duration: number;
  error: string | null;
  deliveryId: string;
}

const PAGE = 1000;

function summary(d: Delivery): DeliverySummary {
  return {
    id: d.id,
    webhookId: d.webhookId,
    eventId: d.eventId,
    event: d.eventType,
    url: d.url,
    status: d.status,
    statusCode: d.statusCode,
    duration: d.durationMs,
    attempts: d.attempts,
    timestamp: d.createdAt,
    kind: d.kind,
    error: d.error,
    nextAttemptAt: d.nextAttemptAt,
    variant: d.variant ?? null,
    sequence: d.sequence ?? null,
  };
}

/** Reading the delivery log, replays and test sends (always within one organization's webhook). */
@Injectable()
export class DeliveriesService {
  constructor(
    @InjectRepository(Delivery) private readonly rows: Repository<Delivery>,
    private readonly history: HistoryService,
    private readonly queue: DeliveryQueue,
    private readonly executor: DeliveryExecutor,
    private readonly log: DeliveryLog,
    private readonly redis: RedisService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async list(
    webhook: Webhook,
    q: z.output<typeof deliveryListSchema>,
  ): Promise<{ deliveries: DeliverySummary[]; nextCursor: string | null }> {
    const qb = this.rows
      .createQueryBuilder('d')
      .where('d.webhook_id = :wh', { wh: webhook.id })
      .andWhere('d.organization_id = :org', { org: webhook.organizationId });
    if (q.status) qb.andWhere('d.status = :status', { status: q.status });
    if (q.eventType) qb.andWhere('d.event_type = :type', { type: q.eventType });
    const { items, nextCursor } = await keysetPage(qb, 'd', 'DESC', q.limit, q.cursor, summary);
    return { deliveries: items, nextCursor };
  }

  /**
   * Every delivery of one event across the organization's webhooks, newest first. 404 when the organization has
   * neither the event nor a delivery of it (deliveries outlive the event's retention, so those still list). A batch
   * delivery carries its first event's id, so it lists under that event only.
   */
  async listByEvent(
    organizationId: string,
    eventId: string,
    q: z.output<typeof eventDeliveryListSchema>,
  ): Promise<{ deliveries: DeliverySummary[]; nextCursor: string | null }> {
    const qb = this.rows
      .createQueryBuilder('d')
      .where('d.organization_id = :org', { org: organizationId })
      .andWhere('d.event_id = :event', { event: eventId });
    const { items, nextCursor } = await keysetPage(qb, 'd', 'DESC', q.limit, q.cursor, summary);
    if (!items.length && !q.cursor && !(await this.history.findById(organizationId, eventId))) throw ApiError.notFound('Event');
    return { deliveries: items, nextCursor };
  }

  private async find(webhook: Webhook, deliveryId: string): Promise<Delivery> {
    const d = await this.rows.findOneBy({ id: deliveryId, webhookId: webhook.id, organizationId: webhook.organizationId });
    if (!d) throw ApiError.notFound('Delivery');
    return d;
  }

  async get(webhook: Webhook, deliveryId: string): Promise<DeliveryDetail> {
    const d = await this.find(webhook, deliveryId);
    return { ...summary(d), eventPublishedAt: d.eventPublishedAt, succeededAt: d.succeededAt, attemptHistory: d.attemptLog };
  }

  /** A new delivery of the same event (from the retained history). */
  async replay(webhook: Webhook, deliveryId: string): Promise<{ deliveryId: string; eventId: string }> {
    const d = await this.find(webhook, deliveryId);
    assertEnabled(webhook);
    if (d.kind === 'batch' || d.kind === 'test')
      throw ApiError.conflict(`A ${d.kind} delivery cannot be replayed; replay its events with POST /api/v1/webhooks/{id}/replay`);
    const event = await this.history.findById(webhook.organizationId, d.eventId);
    if (!event) throw new ApiError(409, 'event_not_retained', `Event ${d.eventId} is no longer retained (EVENT_RETENTION_DAYS)`);
    const id = newId('del');
    await this.queue.addDeliveries(webhook, 'replay', [{ deliveryId: id, event }]);
    return { deliveryId: id, eventId: event.id };
  }

  /**
   * Re-delivers every retained event in [from, to] that the webhook matches (and of eventTypes when given), at most
   * REPLAY_MAX_EVENTS (`truncated` says so). One at a time per webhook (409 replay_in_progress) and counted against the
   * organization's REPLAY_RATE_PER_MINUTE (429).
   */
  async replayRange(webhook: Webhook, r: z.output<typeof replayRangeSchema>): Promise<{ replayed: number; truncated: boolean }> {
    assertEnabled(webhook);
    return withReplayLock(this.redis, webhook.id, this.queue.tagOf(webhook.organizationId), async () => {
      await admitMassReplay(this.redis, this.config, webhook.organizationId, 'replay');
      return this.enqueueRange(webhook, r);
    });
  }

  private async enqueueRange(webhook: Webhook, r: z.output<typeof replayRangeSchema>): Promise<{ replayed: number; truncated: boolean }> {
    const max = this.config.replayMaxEvents;
    const hook = new CompiledWebhook(webhook);
    const types = r.eventTypes ? new Set(r.eventTypes) : null;
    const toId = eventIdBound(Date.parse(r.to), 'high');
    let after = eventIdBound(Date.parse(r.from) - 1, 'high');
    let replayed = 0;
    for (;;) {
      const page = await this.history.after(webhook.organizationId, after, PAGE, toId);
      if (!page.length) return { replayed, truncated: false };
      after = page[page.length - 1].id;
      const chosen = page.filter((e) => (!types || types.has(e.type)) && hook.matches(e)).slice(0, max - replayed);
      if (chosen.length)
        await this.queue.addDeliveries(
          webhook,
          'replay',
          chosen.map((event) => ({ deliveryId: newId('del'), event })),
        );
      replayed += chosen.length;
      if (replayed >= max) return { replayed, truncated: true };
    }
  }

  /** Sends a `webhook.test` event now, signed like any delivery, and reports the attempt (one attempt, no retry). */
  async test(webhook: Webhook): Promise<TestResult> {
    const now = new Date().toISOString();
    const event = {
      id: newId('evt_test'),
      type: 'webhook.test',
      organizationId: webhook.organizationId,
      timestamp: now,
      data: { webhookId: webhook.id, message: 'Test event from Humana Events', timestamp: now },
    } as unknown as EventEnvelope;
    const deliveryId = newId('del');
    const res = await this.executor.attempt(new CompiledWebhook(webhook), { event }, deliveryId, 1);
    const status = res.outcome === 'success' ? 'success' : 'failed';
    await this.log.record(deliveryRow({ webhook, deliveryId, kind: 'test', event, createdAt: now, attempts: [res.record], status }));
    return {
      success: status === 'success',
      statusCode: res.record.statusCode,
      duration: res.record.duration,
      error: res.record.error,
      deliveryId,
    };
  }
}
