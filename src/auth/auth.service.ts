import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, type Repository } from 'typeorm';
import { APP_CONFIG, hasApi, type AppConfig } from '../config/config.js';
import { RedisService } from '../redis/redis.service.js';
import { ApiError } from '../common/api-error.js';
import { newId } from '../common/ids.js';
import { ApiKey } from './api-key.entity.js';
import { Organization } from './organization.entity.js';
import type { Principal } from './principal.js';
import { ALL_SCOPES, type Scope } from './scopes.js';

export const DEFAULT_ORG_ID = 'org_default';
const CACHE_TTL_MS = 5_000;

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

export interface CreatedKey {
  id: string;
  key: string;
  organizationId: string;
  name: string;
  scopes: Scope[];
}

/**
 * Organizations and API keys. Keys are looked up by SHA-256 and cached briefly so auth costs no SQL per request.
 * A revocation is announced to every API process (Redis pub/sub): each drops the key from its cache at once and
 * tells its listeners (the live streams opened with that key close).
 */
@Injectable()
export class AuthService implements OnModuleInit, OnApplicationBootstrap {
  private readonly logger = new Logger('AuthService');
  private readonly cache = new Map<string, { principal: Principal | null; until: number }>();
  private readonly limitsListeners: ((organizationId: string) => void)[] = [];
  private readonly revokedListeners: ((keyId: string) => void)[] = [];
  /** Set when this process created the first-run key (an empty database, no BOOTSTRAP_API_KEY, not production). */
  firstRunKey?: CreatedKey;

  constructor(
    @InjectRepository(Organization) private readonly orgs: Repository<Organization>,
    @InjectRepository(ApiKey) private readonly keys: Repository<ApiKey>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly redis: RedisService,
  ) {}

  private get revokedChannel(): string {
    return this.redis.keys.keyRevokedChannel();
  }

  async onModuleInit(): Promise<void> {
    if (!hasApi(this.config)) return;
    const sub = this.redis.connect('auth-revocations-sub');
    sub.on('message', (_channel: string, keyId: string) => this.revoked(keyId));
    await sub.subscribe(this.revokedChannel);
  }

  private revoked(keyId: string): void {
    for (const [hash, hit] of this.cache) if (hit.principal?.keyId === keyId) this.cache.delete(hash);
    for (const listener of this.revokedListeners) listener(keyId);
  }

  /** Called in every API process when a key is revoked anywhere. */
  onKeyRevoked(listener: (keyId: string) => void): void {
    this.revokedListeners.push(listener);
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.bootstrapApiKey) await this.ensureBootstrapKey(this.config.bootstrapApiKey);
    else if (this.config.nodeEnv !== 'production' && hasApi(this.config)) this.firstRunKey = await this.createFirstRunKey();
  }

  /**
   * First start on an empty database: `org_default` and one all-scopes key, so `npm start` alone gives a usable API
   * and console. Nothing when any organization or key exists; the process whose insert of `org_default` wins creates it.
   */
  private async createFirstRunKey(): Promise<CreatedKey | undefined> {
    if ((await this.orgs.count()) > 0 || (await this.keys.count()) > 0) return undefined;
    if (!(await this.ensureDefaultOrg())) return undefined; // another process starting at the same time made it
    return this.createKey(DEFAULT_ORG_ID, 'first-run');
  }

  /** Processes starting together on one database may race here: a row another one inserted first is fine. */
  private async insertUnlessPresent(insert: () => Promise<unknown>, present: () => Promise<boolean>): Promise<boolean> {
    if (await present()) return false;
    try {
      await insert();
      return true;
    } catch (err) {
      if (await present()) return false;
      throw err;
    }
  }

  private ensureDefaultOrg(): Promise<boolean> {
    return this.insertUnlessPresent(
      () => this.orgs.insert({ id: DEFAULT_ORG_ID, name: 'Default organization', limits: {}, createdAt: new Date().toISOString() }),
      () => this.orgs.existsBy({ id: DEFAULT_ORG_ID }),
    );
  }

  private async ensureBootstrapKey(key: string): Promise<void> {
    await this.ensureDefaultOrg();
    const added = await this.insertUnlessPresent(
      () => this.keys.insert(this.keyRow(DEFAULT_ORG_ID, key, 'bootstrap', ALL_SCOPES)),
      () => this.keys.existsBy({ keyHash: hashKey(key) }),
    );
    if (added) this.logger.log(`Bootstrap API key registered for ${DEFAULT_ORG_ID}`);
  }

  private keyRow(organizationId: string, key: string, name: string, scopes: Scope[]): ApiKey {
    return Object.assign(new ApiKey(), {
      id: newId('key'),
      organizationId,
      name,
      keyHash: hashKey(key),
      keyPrefix: key.slice(0, 12),
      scopes,
      createdAt: new Date().toISOString(),
      revokedAt: null,
    });
  }

  async createOrganization(name: string): Promise<Organization> {
    const org = Object.assign(new Organization(), { id: newId('org'), name, limits: {}, createdAt: new Date().toISOString() });
    await this.orgs.insert(org);
    return org;
  }

  listOrganizations(): Promise<Organization[]> {
    return this.orgs.find({ order: { createdAt: 'ASC' } });
  }

  async getOrganization(id: string): Promise<Organization> {
    const org = await this.orgs.findOneBy({ id });
    if (!org) throw ApiError.notFound('Organization');
    return org;
  }

  async updateLimits(id: string, limits: Record<string, number>): Promise<Organization> {
    const org = await this.getOrganization(id);
    org.limits = limits;
    await this.orgs.update({ id }, { limits });
    for (const listener of this.limitsListeners) listener(id);
    return org;
  }

  /** Caches of limits (quotas) drop their copy when an organization's limits change. */
  onLimitsChanged(listener: (organizationId: string) => void): void {
    this.limitsListeners.push(listener);
  }

  async createKey(organizationId: string, name: string, scopes: Scope[] = ALL_SCOPES): Promise<CreatedKey> {
    await this.getOrganization(organizationId);
    const key = `hk_${randomBytes(24).toString('base64url')}`;
    const row = this.keyRow(organizationId, key, name, scopes);
    await this.keys.insert(row);
    return { id: row.id, key, organizationId, name, scopes };
  }

  async revokeKey(organizationId: string, keyId: string): Promise<void> {
    const row = await this.keys.findOneBy({ id: keyId, organizationId, revokedAt: IsNull() });
    if (!row) throw ApiError.notFound('API key');
    await this.keys.update({ id: keyId }, { revokedAt: new Date().toISOString() });
    this.cache.delete(row.keyHash);
    await this.redis.client.publish(this.revokedChannel, keyId);
  }

  /** Resolves a raw key to its principal; null when unknown or revoked. */
  async authenticate(rawKey: string | undefined | null): Promise<Principal | null> {
    if (!rawKey || rawKey.length > 512) return null;
    const hash = hashKey(rawKey);
    const now = Date.now();
    const hit = this.cache.get(hash);
    if (hit && hit.until > now) return hit.principal;
    const row = await this.keys.findOneBy({ keyHash: hash });
    const principal: Principal | null =
      row && !row.revokedAt ? { organizationId: row.organizationId, keyId: row.id, scopes: new Set(row.scopes as Scope[]) } : null;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(hash, { principal, until: now + CACHE_TTL_MS });
    return principal;
  }

  get adminEnabled(): boolean {
    return !!this.config.adminToken;
  }

  isAdminToken(token: string | undefined | null): boolean {
    return !!this.config.adminToken && !!token && safeEqual(token, this.config.adminToken);
  }
}
