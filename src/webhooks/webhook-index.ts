import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { compareStreamIds } from '../common/stream-ids.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import type { EventEnvelope } from '../events/envelope.js';
import { anyTypeMatches } from '../events/matching.js';
import { RedisService, type RedisClient } from '../redis/redis.service.js';
import { compileFilters, type DataPredicate } from './filters.js';
import { signingKey, type SigningKey } from './signing.js';
import { Webhook } from './webhook.entity.js';

/** A webhook ready for matching and delivery: signing keys and filters compiled once (transforms compile in the transform threads). */
export class CompiledWebhook {
  private readonly current: SigningKey;
  private readonly previous: { key: SigningKey; until: number } | null;
  /** The webhook's `filters` over an event's data. */
  readonly dataMatches: DataPredicate;

  constructor(readonly row: Webhook) {
    this.current = signingKey(row.secret);
    this.previous =
      row.previousSecret && row.previousSecretExpiresAt
        ? { key: signingKey(row.previousSecret), until: Date.parse(row.previousSecretExpiresAt) }
        : null;
    this.dataMatches = compileFilters(row.filters);
  }

  get id(): string {
    return this.row.id;
  }

  /** The current secret's key, then a rotated-out one during its grace period. */
  signingKeys(now = Date.now()): SigningKey[] {
    return this.previous && this.previous.until > now ? [this.current, this.previous.key] : [this.current];
  }

  matches(event: EventEnvelope): boolean {
    return anyTypeMatches(this.row.events, event.type) && this.dataMatches(event.data);
  }
}

/** Channel and version key through which every process learns that a webhook changed. */
export function changeKeys(redis: RedisService): { channel: string; version: string } {
  return { channel: redis.keys.webhooksChangedChannel(), version: redis.keys.webhooksVersion() };
}

/** Tells every process's index that a webhook changed (created, updated, deleted). */
export async function announceChange(redis: RedisService, webhookId: string): Promise<void> {
  const keys = changeKeys(redis);
  const version = await redis.client.incr(keys.version);
  await redis.client.publish(keys.channel, `${version}:${webhookId}`);
}

interface OrgIndex {
  hooks: CompiledWebhook[];
  /** event type → candidate webhooks by type pattern (filters are checked per event). */
  byType: Map<string, CompiledWebhook[]>;
}

/**
 * The subscription index: every enabled webhook in memory, grouped by organization, with per-type candidate lists.
 * Kept current through a Redis pub/sub message per change (reload of that webhook) and a version counter checked
 * every WEBHOOK_INDEX_REFRESH_MS (2 s; full reload when a message was missed, e.g. during a reconnect). Neither is
 * what makes matching correct: the matcher calls {@link WebhookIndex.ensureCurrent} before each log batch.
 * WEBHOOK_INDEX_PUBSUB=false (a test hook) leaves the change channel unsubscribed, to prove exactly that.
 */
@Injectable()
export class WebhookIndex implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('WebhookIndex');
  private byId = new Map<string, CompiledWebhook>();
  private byOrg = new Map<string, OrgIndex>();
  private seenVersion = '';
  private sub?: RedisClient;
  private timer?: NodeJS.Timeout;
  private reloading: Promise<void> = Promise.resolve();

  constructor(
    private readonly redis: RedisService,
    @InjectRepository(Webhook) private readonly webhooks: Repository<Webhook>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    const keys = changeKeys(this.redis);
    if (this.config.webhookIndex.pubsub) {
      this.sub = this.redis.connect('webhook-index-sub');
      this.sub.on('message', (_channel: string, message: string) => {
        const [version, id] = message.split(':');
        this.reloading = this.reloading
          .then(() => this.reloadOne(id, version))
          .catch((err: Error) => this.logger.warn(`reload of ${id} failed: ${err.message}`));
      });
      await this.sub.subscribe(keys.channel);
    }
    await this.reloadAll();
    this.timer = setInterval(() => {
      this.reloading = this.reloading
        .then(() => this.checkVersion())
        .catch((err: Error) => this.logger.warn(`version check failed: ${err.message}`));
    }, this.config.webhookIndex.refreshMs);
  }

  /**
   * Brings the index to at least the change version Redis holds now: every webhook change acknowledged before this
   * call (its version is bumped before the API answers) is in the index when it resolves. Costs one GET when the
   * index is current; otherwise the change messages already received are applied first, and a full reload follows
   * only if they were not enough (a message late or lost).
   */
  async ensureCurrent(): Promise<void> {
    const target = Number((await this.redis.client.get(changeKeys(this.redis).version)) ?? 0);
    if (Number(this.seenVersion || 0) >= target) return;
    await this.reloading;
    if (Number(this.seenVersion || 0) >= target) return;
    const reload = this.reloading.then(() => (Number(this.seenVersion || 0) >= target ? undefined : this.reloadAll()));
    this.reloading = reload.catch((err: Error) => this.logger.warn(`reload failed: ${err.message}`));
    await reload;
  }

  get(id: string): CompiledWebhook | undefined {
    return this.byId.get(id);
  }

  /**
   * Enabled webhooks of the event's organization whose patterns and filters match it and that existed when it was
   * appended: its stream id is after the webhook's createdAtStreamId (rows without one: its timestamp is not before
   * createdAt). A webhook never receives older events from a matcher backlog; replays can still send them.
   */
  match(event: EventEnvelope & { streamId?: string }): CompiledWebhook[] {
    const org = this.byOrg.get(event.organizationId);
    if (!org) return [];
    let candidates = org.byType.get(event.type);
    if (!candidates) {
      candidates = org.hooks.filter((h) => anyTypeMatches(h.row.events, event.type));
      org.byType.set(event.type, candidates);
    }
    return candidates.length ? candidates.filter((h) => existedAt(h.row, event) && h.dataMatches(event.data)) : candidates;
  }

  private async checkVersion(): Promise<void> {
    const version = (await this.redis.client.get(changeKeys(this.redis).version)) ?? '';
    if (version !== this.seenVersion) await this.reloadAll(version);
  }

  async reloadAll(version?: string): Promise<void> {
    const v = version ?? (await this.redis.client.get(changeKeys(this.redis).version)) ?? '';
    const rows = await this.webhooks.findBy({ enabled: true });
    const byId = new Map<string, CompiledWebhook>();
    for (const row of rows) {
      const compiled = this.compile(row);
      if (compiled) byId.set(row.id, compiled);
    }
    this.byId = byId;
    this.rebuildOrgs();
    this.seenVersion = v;
  }

  private async reloadOne(id: string, version: string): Promise<void> {
    const row = await this.webhooks.findOneBy({ id });
    const compiled = row?.enabled ? this.compile(row) : undefined;
    if (compiled) this.byId.set(id, compiled);
    else this.byId.delete(id);
    this.rebuildOrgs();
    // Only an unbroken sequence of messages proves nothing was missed; otherwise the next version check reloads all.
    if (Number(version) === Number(this.seenVersion || 0) + 1) this.seenVersion = version;
  }

  private compile(row: Webhook): CompiledWebhook | undefined {
    try {
      return new CompiledWebhook(row);
    } catch (err) {
      this.logger.error(`webhook ${row.id} skipped: ${(err as Error).message}`);
      return undefined;
    }
  }

  private rebuildOrgs(): void {
    const byOrg = new Map<string, OrgIndex>();
    for (const hook of this.byId.values()) {
      let org = byOrg.get(hook.row.organizationId);
      if (!org) byOrg.set(hook.row.organizationId, (org = { hooks: [], byType: new Map() }));
      org.hooks.push(hook);
    }
    this.byOrg = byOrg;
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }
}

/** Whether the webhook existed when the event was appended to the log (see Webhook.createdAtStreamId). */
function existedAt(row: Webhook, event: EventEnvelope & { streamId?: string }): boolean {
  if (row.createdAtStreamId && event.streamId) return compareStreamIds(event.streamId, row.createdAtStreamId) > 0;
  return row.createdAt <= event.timestamp;
}
