import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import type { Principal } from '../auth/principal.js';
import { ApiError } from '../common/api-error.js';
import { newId } from '../common/ids.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { RedisService } from '../redis/redis.service.js';
import { generateSecret } from './signing.js';
import { privateUrlProblem } from '../destinations/url-guard.js';
import { unmaskUrl } from '../destinations/url-mask.js';
import { announceChange } from './webhook-index.js';
import { WebhookLifecycle } from './webhook-lifecycle.js';
import { keysetPage } from '../common/keyset-page.js';
import { viewOf, type WebhookView } from './webhook-view.js';
import { Webhook } from './webhook.entity.js';
import { webhookConfigProblems, type CreateWebhookInput, type WebhookConfigInput, type WebhookPatch } from './webhook.schemas.js';

export const SECRET_ROTATION_GRACE_MS = 24 * 3600 * 1000;

/** Webhook management: validation beyond the schema (SSRF), persistence, audit, cross-process invalidation. */
@Injectable()
export class WebhooksService {
  constructor(
    @InjectRepository(Webhook) private readonly webhooks: Repository<Webhook>,
    private readonly audit: AuditService,
    private readonly redis: RedisService,
    private readonly lifecycle: WebhookLifecycle,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The SSRF rule, for every scheme: the host must resolve to public addresses only (unless private ones are allowed). */
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

  async list(organizationId: string, limit: number, cursor?: string): Promise<{ webhooks: WebhookView[]; nextCursor: string | null }> {
    const qb = this.webhooks.createQueryBuilder('w').where('w.organization_id = :org', { org: organizationId });
    const { items, nextCursor } = await keysetPage(qb, 'w', 'ASC', limit, cursor, viewOf);
    return { webhooks: items, nextCursor };
  }

  private checkConfig(c: Pick<Webhook, 'url' | 'format' | 'formatOptions' | 'batch' | 'transform'>): void {
    const problems = webhookConfigProblems(c);
    if (problems.length) throw ApiError.badRequest(problems.map((x) => `${x.field}: ${x.message}`).join('; '), problems);
  }

  async create(p: Principal, input: CreateWebhookInput): Promise<WebhookView & { secret: string }> {
    this.checkConfig(input);
    await this.checkUrl(input.url);
    const now = new Date().toISOString();
    const w = Object.assign(new Webhook(), {
      ...this.configOf(input),
      id: newId('wh'),
      organizationId: p.organizationId,
      secret: input.secret ?? generateSecret(),
      previousSecret: null,
      previousSecretExpiresAt: null,
      createdAt: now,
      updatedAt: now,
    });
    await this.webhooks.insert(w);
    await announceChange(this.redis, w.id);
    await this.audit.record({ organizationId: p.organizationId, actor: p.keyId, action: 'webhook.created', resourceId: w.id, after: viewOf(w) });
    return { ...viewOf(w), secret: w.secret };
  }

  private configOf(c: WebhookConfigInput | CreateWebhookInput): Omit<WebhookView, 'id' | 'transport' | 'createdAt' | 'updatedAt'> {
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
      format: c.format,
      formatOptions: c.formatOptions,
    };
  }

  replace(p: Principal, id: string, input: WebhookConfigInput): Promise<WebhookView> {
    return this.update(p, id, () => this.configOf(input));
  }

  patch(p: Principal, id: string, patch: WebhookPatch): Promise<WebhookView> {
    return this.update(p, id, (w) => {
      const { retry, secret: _secret, ...rest } = patch;
      const defined = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
      return { ...defined, ...(retry ? { retry: { ...w.retry, ...retry } } : {}), ...(rest.events ? { events: [...new Set(rest.events)] } : {}) };
    });
  }

  private async update(p: Principal, id: string, change: (w: Webhook) => Partial<Webhook>): Promise<WebhookView> {
    const w = await this.get(p.organizationId, id);
    const before = viewOf(w);
    const next = change(w);
    // A URL sent back as it was read (credentials masked) keeps the stored credentials.
    if (next.url !== undefined) next.url = unmaskUrl(next.url, w.url);
    this.checkConfig({ ...w, ...next });
    if (next.url !== undefined && next.url !== w.url) await this.checkUrl(next.url);
    Object.assign(w, next, { updatedAt: new Date().toISOString() });
    await this.webhooks.update({ id, organizationId: p.organizationId }, { ...next, updatedAt: w.updatedAt });
    await announceChange(this.redis, id);
    if (before.enabled && !w.enabled) await this.lifecycle.stopped(w, 'webhook disabled: pending retries stopped');
    await this.audit.record({ organizationId: p.organizationId, actor: p.keyId, action: 'webhook.updated', resourceId: id, before, after: viewOf(w) });
    return viewOf(w);
  }

  async remove(p: Principal, id: string): Promise<void> {
    const w = await this.get(p.organizationId, id);
    await this.webhooks.delete({ id, organizationId: p.organizationId });
    await announceChange(this.redis, id);
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
