import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import type { ErrorDetail } from '../common/api-error.js';
import { EventTypeDirectory, type CustomEventType, type EventTypeResolver } from '../events/event-type-directory.js';
import { RedisService, type RedisClient } from '../redis/redis.service.js';
import { EventTypeRow } from './event-type.entity.js';
import { compileEventSchema, releaseEventSchema, validationFailures, type CompiledSchema } from './schema-policy.js';

const VERSION_CHECK_MS = 2_000;

class CompiledEventType implements CustomEventType {
  constructor(
    readonly name: string,
    readonly version: number,
    readonly validator: CompiledSchema | null,
    private readonly compileError: string | null,
  ) {}

  validate(data: Record<string, unknown>): ErrorDetail[] | null {
    if (!this.validator)
      return [{ field: 'type', message: `the schema of "${this.name}" no longer compiles (${this.compileError}); update it` }];
    return validationFailures(this.validator, data);
  }
}

/**
 * Each process's cache of organizations' own types, compiled once per organization + type + version, and the
 * EventTypeResolver registered on events' EventTypeDirectory. Kept current like the webhook index: a pub/sub message
 * per change (drops that organization's entry) and a version counter checked every 2 s (drops everything when a
 * message was missed).
 */
@Injectable()
export class EventTypeRegistry implements EventTypeResolver, OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('EventTypeRegistry');
  private readonly byOrg = new Map<string, Promise<ReadonlyMap<string, CompiledEventType>>>();
  /** `<org>\0<name>\0<version>` → compiled type (kept across reloads of the organization). */
  private readonly compiled = new Map<string, CompiledEventType>();
  private seenVersion = '';
  private sub?: RedisClient;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly redis: RedisService,
    private readonly directory: EventTypeDirectory,
    @InjectRepository(EventTypeRow) private readonly rows: Repository<EventTypeRow>,
  ) {}

  async onModuleInit(): Promise<void> {
    this.directory.setResolver(this);
    this.sub = this.redis.connect('event-types-sub');
    this.sub.on('message', (_channel: string, message: string) => {
      const colon = message.indexOf(':');
      this.invalidate(message.slice(colon + 1));
      this.seenVersion = message.slice(0, colon);
    });
    await this.sub.subscribe(this.redis.keys.eventTypesChangedChannel());
    this.seenVersion = (await this.redis.client.get(this.redis.keys.eventTypesVersion())) ?? '';
    this.timer = setInterval(() => void this.checkVersion(), VERSION_CHECK_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
  }

  typesOf(organizationId: string): Promise<ReadonlyMap<string, CompiledEventType>> {
    let entry = this.byOrg.get(organizationId);
    if (!entry) {
      entry = this.load(organizationId);
      this.byOrg.set(organizationId, entry);
      entry.catch(() => this.byOrg.delete(organizationId));
    }
    return entry;
  }

  /** This process forgets the organization's types (next lookup reloads them). */
  invalidate(organizationId: string): void {
    this.byOrg.delete(organizationId);
  }

  /** After a change: this process at once, every other one through pub/sub. */
  async announce(organizationId: string): Promise<void> {
    this.invalidate(organizationId);
    const version = await this.redis.client.incr(this.redis.keys.eventTypesVersion());
    await this.redis.client.publish(this.redis.keys.eventTypesChangedChannel(), `${version}:${organizationId}`);
  }

  private async checkVersion(): Promise<void> {
    try {
      const version = (await this.redis.client.get(this.redis.keys.eventTypesVersion())) ?? '';
      if (version !== this.seenVersion) {
        this.seenVersion = version;
        this.byOrg.clear();
      }
    } catch (err) {
      this.logger.warn(`version check failed: ${(err as Error).message}`);
    }
  }

  private async load(organizationId: string): Promise<ReadonlyMap<string, CompiledEventType>> {
    const rows = await this.rows.findBy({ organizationId });
    const types = new Map<string, CompiledEventType>();
    const live = new Set<string>();
    for (const row of rows) {
      const key = `${organizationId}\0${row.name}\0${row.version}`;
      live.add(key);
      let c = this.compiled.get(key);
      if (!c) {
        try {
          c = new CompiledEventType(row.name, row.version, compileEventSchema(row.schema), null);
        } catch (err) {
          c = new CompiledEventType(row.name, row.version, null, (err as Error).message);
        }
        this.compiled.set(key, c);
      }
      types.set(row.name, c);
    }
    for (const [key, c] of this.compiled) {
      if (key.startsWith(`${organizationId}\0`) && !live.has(key)) {
        this.compiled.delete(key);
        if (c.validator) releaseEventSchema(c.validator);
      }
    }
    return types;
  }
}
