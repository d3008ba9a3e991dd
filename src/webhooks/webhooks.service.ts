import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import type { Principal } from '../auth/principal.js';
import { ApiError } from '../common/api-error.js';
import { newId } from '../common/ids.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { EventTypeDirectory } from '../events/event-type-directory.js';
import { EventLog } from '../events/event-log.js';
import { RedisService } from '../redis/redis.service.js';
import { generateSecret } from './signing.js';
import { TransformHealth, type TransformHealthView } from './transform-health.js';
import { privateUrlProblem } from '../destinations/url-guard.js';
import { unmaskUrl } from '../destinations/url-mask.js';
import { announceChange } from './webhook-index.js';
import { WebhookLifecycle } from './webhook-lifecycle.js';
import { keysetPage } from '../common/keyset-page.js';
import { viewOf, type WebhookView } from './webhook-view.js';
import { Webhook } from './webhook.entity.js';
import {
  UNKNOWN_PATTERN_MESSAGE,
  webhookConfigProblems,
  type CreateWebhookInput,
  type WebhookConfigInput,
  type WebhookPatch,
} from './webhook.schemas.js';
import type { HealthHash } from './endpoint-health.js';

export const SECRET_ROTATION_GRACE_MS = 24 * 3600 * 1000;

/** A webhook as the management API answers it: the stored view plus how its transform has been doing. */
export type WebhookDetail = WebhookView & { transformHealth: TransformHealthView };

/** Webhook management: validation beyond the schema (SSRF), persistence, audit, cross-process invalidation. */
@Injectable()
export class WebhooksService implements OnModuleInit {
  constructor(
    @InjectRepository(Webhook) private readonly webhooks: Repository<Webhook>,
    private readonly audit: AuditService,
    private readonly redis: RedisService,
    private readonly lifecycle: WebhookLifecycle,
    private readonly transformHealth: TransformHealth,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly eventTypes: EventTypeDirectory,
    private readonly eventLog: EventLog,
  ) {}

  /** Deleting an own event type asks which webhooks name it exactly. */
  onModuleInit(): void {
    this.eventTypes.addReferenceSource(async (organizationId, type) => {
      const rows = await this.webhooks.find({ where: { organizationId }, select: { id: true, events: true } });
      return rows.filter((w) => w.events.includes(type)).map((w) => w.id);
    });
  }

  /** Patterns must name a built-in or own type or category of the caller's organization (400 naming `events.<i>`). */
  private async checkEvents(organizationId: string, events: readonly string[] | undefined): Promise<void> {
    if (!events) return;
    const unknown = new Set(await this.eventTypes.unknownPatterns(organizationId, events));
    if (!unknown.size) return;
    const details = events.flatMap((e, i) => (unknown.has(e) ? [{ field: `events.${i}`, message: UNKNOWN_PATTERN_MESSAGE }] : []));
    throw ApiError.badRequest(details.map((d) => `${d.field}: ${d.message}`).join('; '), details);
  }

  /** The SSRF rule, for every scheme: the host must resolve to public addresses only (unless private ones are allowed). */
  private async checkUrl(url: string): Promise<void> {
    if (this.config.allowPrivateWebhookUrls) return;
    const problem = await privateUrlProblem(new URL(url));
    if (problem) throw ApiError.badRequest(`url: ${problem} (ALLOW_PRIVATE_WEBHOOK_URLS is off)`, [{ field: 'url', message: problem }]);
  }

  /** The URL and every A/B variant URL pass the same checks. */
  private async checkUrls(url: string | undefined, variants: Webhook['variants'] | undefined): Promise<void> {
    if (url !== undefined) await this.checkUrl(url);
    for (const [i, v] of (variants ?? []).entries()) {
      try {
        await this.checkUrl(v.url);
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        throw ApiError.badRequest(`variants.${i}.url: ${err.message.replace(/^url: /, '')}`, [
          { field: `variants.${i}.url`, message: err.message },
        ]);
      }
    }
  }

  /** A webhook's health hash: a delivery engine key, under its organization's partition tag. */
  private healthKey(w: Pick<Webhook, 'id' | 'organizationId'>): string {
    return this.redis.keys.webhookHealth(w.id, this.eventLog.organizationTag(w.organizationId));
  }

  /** Health hashes (Redis) of the given webhooks, in order (one command each: organizations may be in different slots). */
  private healthOf(ws: Webhook[]): Promise<HealthHash[]> {
    return Promise.all(ws.map((w) => this.redis.client.hgetall(this.healthKey(w)).catch(() => ({}) as HealthHash)));
  }

  /** The API views of webhooks, with their live endpoint health and transform health. */
  private async views(ws: Webhook[]): Promise<WebhookDetail[]> {
    const ids = ws.map((w) => w.id);
    const [health, transforms] = await Promise.all([this.healthOf(ws), this.transformHealth.of(ids)]);
    return ws.map((w, i) => ({ ...viewOf(w, health[i]), transformHealth: transforms[i] }));
  }

  async view(w: Webhook): Promise<WebhookDetail> {
    const [detail] = await this.views([w]);
    return detail;
  }

  async get(organizationId: string, id: string): Promise<Webhook> {
    const w = await this.webhooks.findOneBy({ id, organizationId });
    if (!w) throw ApiError.notFound('Webhook');
    return w;
  }

  async list(organizationId: string, limit: number, cursor?: string): Promise<{ webhooks: WebhookDetail[]; nextCursor: string | null }> {
    const qb = this.webhooks.createQueryBuilder('w').where('w.organization_id = :org', { org: organizationId });
    const { items, nextCursor } = await keysetPage(qb, 'w', 'ASC', limit, cursor, (w: Webhook) => w);
    return { webhooks: await this.views(items), nextCursor };
  }

  private checkConfig(c: Pick<Webhook, 'url' | 'format' | 'formatOptions' | 'batch' | 'transform'>): void {
    const problems = webhookConfigProblems(c);
    if (problems.length) throw ApiError.badRequest(problems.map((x) => `${x.field}: ${x.message}`).join('; '), problems);
  }

  async create(p: Principal, input: CreateWebhookInput): Promise<WebhookDetail & { secret: string }> {
    this.checkConfig(input);
    await this.checkEvents(p.organizationId, input.events);
    await this.checkUrls(input.url, input.variants);
    const now = new Date().toISOString();
    // Read before the insert: every event of the organization appended after the 201 has a later stream id (in its partition), and the matcher brings its
    // index up to the version announced below before matching (the guarantee in src/delivery/webhook-matcher.ts).
    const createdAtStreamId = await this.eventLog.lastStreamId(this.eventLog.partitionOf(p.organizationId));
    const w = Object.assign(new Webhook(), {
      ...this.configOf(input),
      id: newId('wh'),
      organizationId: p.organizationId,
      secret: input.secret ?? generateSecret(),
      previousSecret: null,
      previousSecretExpiresAt: null,
      paused: false,
      disabledAt: null,
      disabledReason: null,
      createdAt: now,
      createdAtStreamId,
      updatedAt: now,
    });
    await this.webhooks.insert(w);
    await announceChange(this.redis, w.id);
    await this.redis.client.del(this.healthKey(w));
    await this.audit.record({
      organizationId: p.organizationId,
      actor: p.keyId,
      action: 'webhook.created',
      resourceId: w.id,
      after: viewOf(w),
    });
    return { ...(await this.view(w)), secret: w.secret };
  }

  private configOf(
    c: WebhookConfigInput | CreateWebhookInput,
  ): Omit<WebhookView, 'id' | 'transport' | 'createdAt' | 'updatedAt' | 'health' | 'paused'> {
    return {
      url: c.url,
      events: [...new Set(c.events)],
      headers: c.headers,
      filters: c.filters,
      retry: c.retry,
      description: c.description,
      enabled: c.enabled,
      timeoutMs: c.timeoutMs,
      batch: c.batch,
      transform: c.transform,
      circuitBreaker: c.circuitBreaker,
      autoDisable: c.autoDisable,
      rateLimit: c.rateLimit,
      ordering: c.ordering,
      variants: c.variants,
      format: c.format,
      formatOptions: c.formatOptions,
    };
  }

  replace(p: Principal, id: string, input: WebhookConfigInput): Promise<WebhookDetail> {
    return this.update(p, id, () => this.configOf(input));
  }

  patch(p: Principal, id: string, patch: WebhookPatch): Promise<WebhookDetail> {
    return this.update(p, id, (w) => {
      const { retry, secret: _secret, ...rest } = patch;
      const defined = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
      return {
        ...defined,
        ...(retry ? { retry: { ...w.retry, ...retry } } : {}),
        ...(rest.events ? { events: [...new Set(rest.events)] } : {}),
      };
    });
  }

  private async update(p: Principal, id: string, change: (w: Webhook) => Partial<Webhook>): Promise<WebhookDetail> {
    const w = await this.get(p.organizationId, id);
    const before = viewOf(w);
    const next = change(w);
    if (next.url !== undefined) next.url = unmaskUrl(next.url, w.url);
    if (next.variants) next.variants = next.variants.map((v, i) => ({ ...v, url: unmaskUrl(v.url, w.variants?.[i]?.url ?? '') }));
    this.checkConfig({ ...w, ...next });
    await this.checkEvents(p.organizationId, next.events);
    await this.checkUrls(next.url !== undefined && next.url !== w.url ? next.url : undefined, next.variants);
    // Re-enabling (e.g. after an auto-disable) clears why it was disabled and starts its health afresh.
    const reEnabled = !w.enabled && next.enabled === true;
    if (reEnabled) Object.assign(next, { disabledAt: null, disabledReason: null });
    Object.assign(w, next, { updatedAt: new Date().toISOString() });
    await this.webhooks.update({ id, organizationId: p.organizationId }, { ...next, updatedAt: w.updatedAt });
    if (reEnabled) await this.resetHealth(w);
    await announceChange(this.redis, id);
    if (w.transform !== before.transform) await this.transformHealth.forget(id);
    if (before.enabled && !w.enabled) await this.lifecycle.stopped(w, 'webhook disabled: pending retries stopped');
    await this.audit.record({
      organizationId: p.organizationId,
      actor: p.keyId,
      action: 'webhook.updated',
      resourceId: id,
      before,
      after: viewOf(w),
    });
    return this.view(w);
  }

  private async resetHealth(w: Webhook): Promise<void> {
    const key = this.healthKey(w);
    const pipe = this.redis.client.multi().del(key);
    if (w.paused) pipe.hset(key, 'paused', '1');
    await pipe.exec();
  }

  /**
   * Pause or resume deliveries (nothing is attempted or dead-lettered while paused; matching events wait in the
   * endpoint's backlog). The Redis mirror of the flag is what the delivery engine reads, written before answering.
   */
  async setPaused(p: Principal, id: string, paused: boolean): Promise<WebhookDetail> {
    const w = await this.get(p.organizationId, id);
    const updatedAt = new Date().toISOString();
    await this.webhooks.update({ id, organizationId: p.organizationId }, { paused, updatedAt });
    const key = this.healthKey({ id, organizationId: p.organizationId });
    if (paused) await this.redis.client.hset(key, 'paused', '1');
    else await this.redis.client.hdel(key, 'paused');
    Object.assign(w, { paused, updatedAt });
    await announceChange(this.redis, id);
    await this.audit.record({
      organizationId: p.organizationId,
      actor: p.keyId,
      action: paused ? 'webhook.paused' : 'webhook.resumed',
      resourceId: id,
      after: { paused },
    });
    return this.view(w);
  }

  /**
   * Disables a webhook whose endpoint kept failing (auto-disable); true when this call disabled it (once, however many
   * workers decide it at the same moment). Pending retries stop; an audit entry records it.
   */
  async autoDisable(webhookId: string, reason: string): Promise<Webhook | null> {
    const disabledAt = new Date().toISOString();
    const res = await this.webhooks.update(
      { id: webhookId, enabled: true },
      { enabled: false, disabledAt, disabledReason: reason, updatedAt: disabledAt },
    );
    if (!res.affected) return null;
    const w = await this.webhooks.findOneBy({ id: webhookId });
    if (!w) return null;
    await announceChange(this.redis, webhookId);
    await this.lifecycle.stopped(w, `webhook auto-disabled: ${reason}`);
    await this.audit.record({
      organizationId: w.organizationId,
      actor: 'system',
      action: 'webhook.auto_disabled',
      resourceId: webhookId,
      after: { enabled: false, disabledAt, disabledReason: reason },
    });
    return w;
  }

  async remove(p: Principal, id: string): Promise<void> {
    const w = await this.get(p.organizationId, id);
    await this.webhooks.delete({ id, organizationId: p.organizationId });
    await announceChange(this.redis, id);
    await this.transformHealth.forget(id);
    await this.lifecycle.stopped(w, 'webhook deleted: pending retries stopped');
    const tag = this.eventLog.organizationTag(w.organizationId);
    await this.redis.client.del(
      this.redis.keys.webhookHealth(id, tag),
      this.redis.keys.webhookRate(id, tag),
      this.redis.keys.webhookSequence(id, tag),
    );
    await this.audit.record({
      organizationId: p.organizationId,
      actor: p.keyId,
      action: 'webhook.deleted',
      resourceId: id,
      before: viewOf(w),
    });
  }

  async secret(organizationId: string, id: string): Promise<{ secret: string; previousSecretExpiresAt: string | null }> {
    const w = await this.get(organizationId, id);
    const rotating = w.previousSecretExpiresAt && Date.parse(w.previousSecretExpiresAt) > Date.now();
    return { secret: w.secret, previousSecretExpiresAt: rotating ? w.previousSecretExpiresAt : null };
  }

  /** New secret (given or generated); the old one keeps being signed with for 24 h. */
  async rotateSecret(p: Principal, id: string, secret?: string): Promise<{ secret: string; previousSecretExpiresAt: string }> {
    const w = await this.get(p.organizationId, id);
    const next = secret ?? generateSecret();
    if (next === w.secret)
      throw ApiError.badRequest('secret: the new secret must differ from the current one', [
        { field: 'secret', message: 'same as the current secret' },
      ]);
    const expires = new Date(Date.now() + SECRET_ROTATION_GRACE_MS).toISOString();
    const updatedAt = new Date().toISOString();
    await this.webhooks.update(
      { id, organizationId: p.organizationId },
      { secret: next, previousSecret: w.secret, previousSecretExpiresAt: expires, updatedAt },
    );
    await announceChange(this.redis, id);
    await this.audit.record({
      organizationId: p.organizationId,
      actor: p.keyId,
      action: 'webhook.secret_rotated',
      resourceId: id,
      after: { previousSecretExpiresAt: expires },
    });
    return { secret: next, previousSecretExpiresAt: expires };
  }
}
