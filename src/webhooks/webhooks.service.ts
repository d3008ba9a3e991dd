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
import { announceChange } from './webhook-index.js';
import { WebhookLifecycle } from './webhook-lifecycle.js';
import { keysetPage } from '../common/keyset-page.js';
import { viewOf, type WebhookView } from './webhook-view.js';
import { Webhook } from './webhook.entity.js';
import { UNKNOWN_PATTERN_MESSAGE, type CreateWebhookInput, type WebhookConfigInput, type WebhookPatch } from './webhook.schemas.js';

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

  private async checkUrl(url: string): Promise<void> {
    if (this.config.allowPrivateWebhookUrls) return;
    const problem = await privateUrlProblem(new URL(url));
    if (problem) throw ApiError.badRequest(`url: ${problem} (ALLOW_PRIVATE_WEBHOOK_URLS is off)`, [{ field: 'url', message: problem }]);
  }

  async get(organizationId: string, id: string): Promise<Webhook> {
    const w = await this.webhooks.findOneBy({ id, organizationId });
    if (!w) throw ApiError.notFound('Webhook');
    return w;
  }

  private async detailed(views: WebhookView[]): Promise<WebhookDetail[]> {
    const health = await this.transformHealth.of(views.map((v) => v.id));
    return views.map((v, i) => ({ ...v, transformHealth: health[i] }));
  }

  async view(organizationId: string, id: string): Promise<WebhookDetail> {
    const [detail] = await this.detailed([viewOf(await this.get(organizationId, id))]);
    return detail;
  }

  async list(organizationId: string, limit: number, cursor?: string): Promise<{ webhooks: WebhookDetail[]; nextCursor: string | null }> {
    const qb = this.webhooks.createQueryBuilder('w').where('w.organization_id = :org', { org: organizationId });
    const { items, nextCursor } = await keysetPage(qb, 'w', 'ASC', limit, cursor, viewOf);
    return { webhooks: await this.detailed(items), nextCursor };
  }

  async create(p: Principal, input: CreateWebhookInput): Promise<WebhookDetail & { secret: string }> {
    await this.checkEvents(p.organizationId, input.events);
    await this.checkUrl(input.url);
    const now = new Date().toISOString();
    // Read before the insert: every event appended after the 201 has a later stream id, and the matcher brings its
    // index up to the version announced below before matching (the guarantee in src/delivery/webhook-matcher.ts).
    const createdAtStreamId = await this.eventLog.lastStreamId();
    const w = Object.assign(new Webhook(), {
      ...this.configOf(input),
      id: newId('wh'),
      organizationId: p.organizationId,
      secret: input.secret ?? generateSecret(),
      previousSecret: null,
      previousSecretExpiresAt: null,
      createdAt: now,
      createdAtStreamId,
      updatedAt: now,
    });
    await this.webhooks.insert(w);
    await announceChange(this.redis, w.id);
    await this.audit.record({ organizationId: p.organizationId, actor: p.keyId, action: 'webhook.created', resourceId: w.id, after: viewOf(w) });
    const [detail] = await this.detailed([viewOf(w)]);
    return { ...detail, secret: w.secret };
  }

  private configOf(c: WebhookConfigInput | CreateWebhookInput): Omit<WebhookView, 'id' | 'createdAt' | 'updatedAt'> {
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
    };
  }

  replace(p: Principal, id: string, input: WebhookConfigInput): Promise<WebhookDetail> {
    return this.update(p, id, () => this.configOf(input));
  }

  patch(p: Principal, id: string, patch: WebhookPatch): Promise<WebhookDetail> {
    return this.update(p, id, (w) => {
      const { retry, secret: _secret, ...rest } = patch;
      const defined = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
      return { ...defined, ...(retry ? { retry: { ...w.retry, ...retry } } : {}), ...(rest.events ? { events: [...new Set(rest.events)] } : {}) };
    });
  }

  private async update(p: Principal, id: string, change: (w: Webhook) => Partial<Webhook>): Promise<WebhookDetail> {
    const w = await this.get(p.organizationId, id);
    const before = viewOf(w);
    const next = change(w);
    await this.checkEvents(p.organizationId, next.events);
    if (next.url !== undefined && next.url !== w.url) await this.checkUrl(next.url);
    Object.assign(w, next, { updatedAt: new Date().toISOString() });
    await this.webhooks.update({ id, organizationId: p.organizationId }, { ...next, updatedAt: w.updatedAt });
    await announceChange(this.redis, id);
    if (w.transform !== before.transform) await this.transformHealth.forget(id);
    if (before.enabled && !w.enabled) await this.lifecycle.stopped(w, 'webhook disabled: pending retries stopped');
    await this.audit.record({ organizationId: p.organizationId, actor: p.keyId, action: 'webhook.updated', resourceId: id, before, after: viewOf(w) });
    const [detail] = await this.detailed([viewOf(w)]);
    return detail;
  }

  async remove(p: Principal, id: string): Promise<void> {
    const w = await this.get(p.organizationId, id);
    await this.webhooks.delete({ id, organizationId: p.organizationId });
    await announceChange(this.redis, id);
    await this.transformHealth.forget(id);
    await this.lifecycle.stopped(w, 'webhook deleted: pending retries stopped');
    await this.audit.record({ organizationId: p.organizationId, actor: p.keyId, action: 'webhook.deleted', resourceId: id, before: viewOf(w) });
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
    if (next === w.secret) throw ApiError.badRequest('secret: the new secret must differ from the current one', [{ field: 'secret', message: 'same as the current secret' }]);
    const expires = new Date(Date.now() + SECRET_ROTATION_GRACE_MS).toISOString();
    const updatedAt = new Date().toISOString();
    await this.webhooks.update({ id, organizationId: p.organizationId }, { secret: next, previousSecret: w.secret, previousSecretExpiresAt: expires, updatedAt });
    await announceChange(this.redis, id);
    await this.audit.record({ organizationId: p.organizationId, actor: p.keyId, action: 'webhook.secret_rotated', resourceId: id, after: { previousSecretExpiresAt: expires } });
    return { secret: next, previousSecretExpiresAt: expires };
  }
}
