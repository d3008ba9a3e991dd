import { randomBytes } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { SystemEvents } from '../events/system-events.js';
import { RedisService } from '../redis/redis.service.js';
import {
  drainPark,
  drainRelease,
  releaseLock,
  endpointAdmit,
  endpointGate,
  endpointRecord,
  rateTake,
  type AdmitArgs,
  type AdmitReply,
  type EndpointKeys,
  type GateReply,
  type RecordReply,
} from '../redis/scripts.js';
import { maskUrl } from '../destinations/url-mask.js';
import { autoDisableOf, circuitBreakerOf, shouldAutoDisable } from '../webhooks/endpoint-health.js';
import type { CompiledWebhook } from '../webhooks/webhook-index.js';
import { WebhooksService } from '../webhooks/webhooks.service.js';
import { DeliveryQueue, DRAIN_FLAG_SLACK_MS, type WebhookRef } from './delivery-queue.js';
import {
  backlogMember,
  backlogScore,
  decodeHeld,
  encodeHeld,
  encodeHeldMeta,
  orderingKeyOf,
  type HeldDelivery,
} from './engine-decision.js';

export type Admission = AdmitReply;

/** A delivery to admit; `eventJson` is its event's JSON when the caller has it already. */
export interface AdmitItem {
  hook: CompiledWebhook;
  held: HeldDelivery;
  eventJson?: string;
}

/** Ordered endpoints hold every delivery; paused and rate-limited ones often do. */
const likelyHeld = (hook: CompiledWebhook): boolean => !!(hook.row.ordering || hook.row.paused || hook.row.rateLimit);

/** One attempt's outcome for the endpoint's health. */
export interface AttemptHealth {
  hook: CompiledWebhook;
  success: boolean;
  dead: boolean;
}

/**
 * The per-endpoint state of the delivery engine, in Redis (docs/delivery-engine.md): health and circuit, the backlog
 * of held deliveries, the drain flag, the rate limit and ordering sequences. Decides nothing itself: the scripts apply
 * the rules atomically, the pure functions of engine-decision.ts / endpoint-health.ts choose.
 */
@Injectable()
export class EndpointEngine {
  private readonly logger = new Logger('EndpointEngine');

  constructor(
    private readonly redis: RedisService,
    private readonly queue: DeliveryQueue,
    private readonly webhooks: WebhooksService,
    private readonly systemEvents: SystemEvents,
  ) {}

  private keys(webhook: WebhookRef): EndpointKeys {
    return this.queue.endpointKeys(webhook);
  }

  /**
   * Admits deliveries (one script call for all): each either may be attempted now or is held in its endpoint's backlog
   * (a drain job is started for the endpoint when none runs). A delivery's metadata is sent only when it is likely to
   * be held (its endpoint is ordered, paused or rate-limited); the few others the script would hold are admitted again
   * with theirs, in a second call.
   */
  async admit(items: AdmitItem[]): Promise<Admission[]> {
    if (!items.length) return [];
    const replies = await this.admitCall(items, (i) => likelyHeld(items[i].hook));
    const again = replies.flatMap((r, i) => (r.needsMeta ? [i] : []));
    if (again.length) {
      const second = await this.admitCall(
        again.map((i) => items[i]),
        () => true,
      );
      again.forEach((i, j) => (replies[i] = second[j]));
    }
    const drains = new Map<string, WebhookRef>();
    replies.forEach((r, i) => r.startDrain && drains.set(items[i].hook.id, items[i].hook.row));
    await Promise.all([...drains.values()].map((w) => this.queue.addDrain(w, 0)));
    return replies;
  }

  private admitCall(items: AdmitItem[], withMeta: (i: number) => boolean): Promise<Admission[]> {
    const events: string[] = [];
    const eventIndex = new Map<string, number>();
    const args = items.map(({ hook, held, eventJson }, i) => {
      const ordering = hook.row.ordering;
      if (ordering && held.orderKey === undefined) held.orderKey = orderingKeyOf(ordering, held.event.data as Record<string, unknown>);
      let heldArgs: AdmitArgs['held'];
      if (withMeta(i)) {
        let event = eventIndex.get(held.event.id);
        if (event === undefined) {
          event = events.push(eventJson ?? JSON.stringify(held.event)) - 1;
          eventIndex.set(held.event.id, event);
        }
        heldArgs = { meta: encodeHeldMeta(held), event };
      }
      return {
        endpoint: this.keys(hook.row),
        member: backlogMember(held.event.id, held.deliveryId),
        score: backlogScore(held.event),
        held: heldArgs,
        ordered: !!ordering,
        perSecond: hook.row.rateLimit?.perSecond ?? 0,
        orderingKey: held.orderKey ?? '',
      };
    });
    return endpointAdmit(this.redis.client, DRAIN_FLAG_SLACK_MS, events, args);
  }

  /**
   * Records attempts' outcomes in order (health, circuit; one script call for all); a dead-lettering failure may
   * auto-disable its webhook.
   */
  async record(outcomes: readonly AttemptHealth[]): Promise<void> {
    if (!outcomes.length) return;
    const replies = await endpointRecord(
      this.redis.client,
      outcomes.map(({ hook, success, dead }) => {
        const cb = circuitBreakerOf(hook.row);
        return {
          health: this.keys(hook.row).health,
          success,
          dead,
          failureThreshold: cb.failureThreshold,
          probeIntervalMs: cb.probeIntervalMs,
        };
      }),
    );
    const disable = new Map<string, { hook: CompiledWebhook; r: RecordReply }>();
    outcomes.forEach(({ hook, dead }, i) => {
      const r = replies[i];
      if (dead && shouldAutoDisable(r, autoDisableOf(hook.row), r.now)) disable.set(hook.id, { hook, r });
    });
    for (const { hook, r } of disable.values()) await this.autoDisable(hook, r);
  }

  private async autoDisable(hook: CompiledWebhook, r: { since: number | null; dead: number }): Promise<void> {
    const opts = autoDisableOf(hook.row);
    const since = new Date(r.since ?? Date.now()).toISOString();
    const reason = `every attempt failed since ${since} (at least ${opts.afterMs} ms) and ${r.dead} deliveries were dead-lettered with no success in between`;
    const w = await this.webhooks.autoDisable(hook.id, reason);
    if (!w) return;
    this.logger.warn(`webhook ${hook.id} auto-disabled: ${reason}`);
    await this.systemEvents.publish(w.organizationId, 'error.occurred', {
      errorId: `autodisable_${hook.id}`,
      type: 'integration',
      severity: 'critical',
      message: `Webhook ${hook.id} (${maskUrl(w.url)}) was disabled: ${reason}. Re-enable it with PATCH /api/v1/webhooks/${hook.id} {"enabled": true}.`,
      context: {
        webhookId: hook.id,
        url: maskUrl(w.url),
        disabledAt: w.disabledAt,
        disabledReason: reason,
        deadLettered: r.dead,
        failingSince: since,
      },
    });
  }

  gate(hook: CompiledWebhook): Promise<GateReply> {
    return endpointGate(this.redis.client, this.keys(hook.row).health, circuitBreakerOf(hook.row).probeIntervalMs);
  }

  /** 0 when a rate-limit token was taken (or there is no limit), else ms to wait. */
  takeToken(hook: CompiledWebhook): Promise<number> {
    const perSecond = hook.row.rateLimit?.perSecond;
    return perSecond ? rateTake(this.redis.client, this.keys(hook.row).rate, perSecond) : Promise.resolve(0);
  }

  /** The oldest `n` held deliveries, in log order, and how many are held in all. */
  async peek(webhook: WebhookRef, n: number): Promise<{ total: number; items: { member: string; held: HeldDelivery }[] }> {
    const k = this.keys(webhook);
    const [[, members], [, total]] = (await this.redis.client
      .multi()
      .zrange(k.backlog, 0, n - 1)
      .zcard(k.backlog)
      .exec()) as [[null, string[]], [null, number]];
    if (!members.length) return { total, items: [] };
    const raw = await this.redis.client.hmget(k.backlogData, ...members.flatMap((m) => [m, `${m}#s`]));
    const out: { member: string; held: HeldDelivery }[] = [];
    members.forEach((member, i) => {
      const json = raw[2 * i];
      if (!json) return;
      const held = decodeHeld(json);
      const seq = raw[2 * i + 1];
      if (seq) held.sequence = Number(seq);
      out.push({ member, held });
    });
    // Members without data (a crash between the two writes) are dropped from the set so the drain cannot stall.
    const orphans = members.filter((m, i) => !raw[2 * i]);
    if (orphans.length) await this.redis.client.zrem(k.backlog, ...orphans);
    return { total: total - orphans.length, items: out };
  }

  async remove(webhook: WebhookRef, member: string): Promise<void> {
    const k = this.keys(webhook);
    await this.redis.client.multi().zrem(k.backlog, member).hdel(k.backlogData, member, `${member}#s`).exec();
  }

  async update(webhook: WebhookRef, member: string, held: HeldDelivery): Promise<void> {
    const { sequence: _s, ...rest } = held;
    await this.redis.client.hset(this.keys(webhook).backlogData, member, encodeHeld(rest as HeldDelivery));
  }

  /** One drain job at a time sends an endpoint's backlog; null when another holds it. */
  async lock(webhook: WebhookRef, ttlMs: number): Promise<string | null> {
    const token = randomBytes(8).toString('hex');
    const ok = await this.redis.client.set(this.drainLockKey(webhook), token, 'PX', ttlMs, 'NX');
    return ok ? token : null;
  }

  async unlock(webhook: WebhookRef, token: string): Promise<void> {
    await releaseLock(this.redis.client, this.drainLockKey(webhook), token);
  }

  private drainLockKey(webhook: WebhookRef): string {
    return this.redis.keys.webhookDrainLock(webhook.id, this.queue.tagOf(webhook.organizationId));
  }

  /** Parks the drain until `delayMs` unless the backlog changed from `seen` members (then false: drain again now). */
  park(webhook: WebhookRef, seen: number, delayMs: number): Promise<boolean> {
    return drainPark(this.redis.client, this.keys(webhook), seen, Math.ceil(delayMs) + DRAIN_FLAG_SLACK_MS);
  }

  /** Ends the drain when nothing is left (or the endpoint is paused); false when it must go on. */
  release(webhook: WebhookRef): Promise<boolean> {
    return drainRelease(this.redis.client, this.keys(webhook), DRAIN_FLAG_SLACK_MS);
  }
}
