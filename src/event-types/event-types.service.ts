import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { z } from 'zod';
import { AuditService } from '../audit/audit.service.js';
import type { Principal } from '../auth/principal.js';
import { ApiError, type ErrorDetail } from '../common/api-error.js';
import { newId } from '../common/ids.js';
import { parseOrThrow } from '../common/validation.js';
import { describeEventTypes, isEventType } from '../events/catalog.js';
import { EventTypeDirectory } from '../events/event-type-directory.js';
import { HistoryService } from '../events/history.service.js';
import { EventTypeRow } from './event-type.entity.js';
import { EventTypeRegistry } from './event-type-registry.js';
import {
  COMPAT_HISTORY_EVENTS,
  compileEventSchema,
  EVENT_TYPE_NAME,
  MAX_EXAMPLES,
  MAX_SCHEMA_BYTES,
  MAX_TYPES_PER_ORG,
  SchemaPolicyError,
  validationFailures,
  type CompiledSchema,
} from './schema-policy.js';

/** One entry of `GET /api/v1/event-types` (built-in or the organization's own). */
export interface EventTypeView {
  type: string;
  category: string;
  description: string;
  schema: Record<string, unknown>;
  builtIn: boolean;
  version: number;
  examples?: Record<string, unknown>[];
  createdAt?: string;
  updatedAt?: string;
}

const jsonObject = z.record(z.string(), z.unknown());
const name = z
  .string()
  .max(64)
  .regex(EVENT_TYPE_NAME, 'lower-case "category.action" (letters, digits, "_"; dot-separated), e.g. "order.created"');
const definition = {
  description: z.string().max(500).optional(),
  schema: jsonObject,
  examples: z.array(jsonObject).max(MAX_EXAMPLES).optional(),
};
export const createEventTypeSchema = z.strictObject({ name, ...definition });
export const replaceEventTypeSchema = z.strictObject({ ...definition });
export const forceQuerySchema = z.strictObject({ force: z.enum(['true', 'false']).optional() });

const BUILT_IN: EventTypeView[] = describeEventTypes().map((d) => ({ ...d, builtIn: true, version: 1 }));

function viewOf(row: EventTypeRow): EventTypeView {
  return {
    type: row.name,
    category: row.name.split('.')[0],
    description: row.description,
    schema: row.schema,
    builtIn: false,
    version: row.version,
    examples: row.examples,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

function compileOr400(schema: Record<string, unknown>): CompiledSchema {
  const bytes = Buffer.byteLength(JSON.stringify(schema));
  if (bytes > MAX_SCHEMA_BYTES) {
    throw new ApiError(413, 'schema_too_large', `The schema is ${bytes} bytes; at most ${MAX_SCHEMA_BYTES} are accepted`, [
      { field: 'schema', message: `at most ${MAX_SCHEMA_BYTES} bytes` },
    ]);
  }
  try {
    return compileEventSchema(schema);
  } catch (err) {
    if (err instanceof SchemaPolicyError) throw new ApiError(400, 'invalid_schema', err.message, err.details);
    throw err;
  }
}

function checkExamples(validate: CompiledSchema, examples: Record<string, unknown>[]): void {
  const failures = examples.flatMap((ex, i) => validationFailures(validate, ex, `examples.${i}`) ?? []);
  if (failures.length)
    throw ApiError.badRequest(`Examples do not match the schema: ${failures.map((f) => `${f.field}: ${f.message}`).join('; ')}`, failures);
}

function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e.code === '23505' || e.code === 'SQLITE_CONSTRAINT_UNIQUE' || /UNIQUE constraint failed/.test(e.message ?? '');
}

/** Registration, versioning and removal of organizations' own event types. */
@Injectable()
export class EventTypesService {
  constructor(
    @InjectRepository(EventTypeRow) private readonly rows: Repository<EventTypeRow>,
    private readonly registry: EventTypeRegistry,
    private readonly directory: EventTypeDirectory,
    private readonly history: HistoryService,
    private readonly audit: AuditService,
  ) {}

  /** Built-in types, then the organization's own (none without a key). */
  async list(organizationId: string | null): Promise<EventTypeView[]> {
    if (!organizationId) return BUILT_IN;
    const own = await this.rows.find({ where: { organizationId }, order: { name: 'ASC' } });
    return [...BUILT_IN, ...own.map(viewOf)];
  }

  /** 404 for an unknown name and for another organization's type. */
  async get(organizationId: string | null, typeName: string): Promise<EventTypeView> {
    const builtIn = BUILT_IN.find((t) => t.type === typeName);
    if (builtIn) return builtIn;
    const row = organizationId ? await this.rows.findOneBy({ organizationId, name: typeName }) : null;
    if (!row) throw ApiError.notFound(`Event type "${typeName.slice(0, 64)}"`);
    return viewOf(row);
  }

  async create(p: Principal, body: unknown): Promise<EventTypeView> {
    const input = parseOrThrow(createEventTypeSchema, body);
    if (isEventType(input.name)) {
      throw new ApiError(
        409,
        'built_in_event_type',
        `"${input.name}" is a built-in event type and cannot be redefined; choose another name`,
      );
    }
    const validate = compileOr400(input.schema);
    checkExamples(validate, input.examples ?? []);
    const count = await this.rows.countBy({ organizationId: p.organizationId });
    if (count >= MAX_TYPES_PER_ORG) {
      throw new ApiError(
        409,
        'event_type_limit_reached',
        `An organization may register at most ${MAX_TYPES_PER_ORG} event types; delete one first`,
      );
    }
    const now = new Date().toISOString();
    const row = Object.assign(new EventTypeRow(), {
      id: newId('et'),
      organizationId: p.organizationId,
      name: input.name,
      description: input.description ?? '',
      schema: input.schema,
      examples: input.examples ?? [],
      version: 1,
      createdAt: now,
      updatedAt: now,
    });
    try {
      await this.rows.save(row);
    } catch (err) {
      if (isUniqueViolation(err))
        throw ApiError.conflict(`Event type "${input.name}" already exists; PUT /api/v1/event-types/${input.name} changes it`);
      throw err;
    }
    await this.registry.announce(p.organizationId);
    const view = viewOf(row);
    await this.audit.record({
      organizationId: p.organizationId,
      actor: p.keyId,
      action: 'event_type.created',
      resourceId: row.name,
      after: view,
    });
    return view;
  }

  /**
   * Replaces description, schema and examples. A schema change is compatible when the new schema accepts every
   * stored example and the latest COMPAT_HISTORY_EVENTS accepted events of the type (SQL history); otherwise 409
   * unless `force`. The version grows by one on every schema change.
   */
  async replace(p: Principal, typeName: string, body: unknown, force: boolean): Promise<EventTypeView> {
    const input = parseOrThrow(replaceEventTypeSchema, body);
    if (isEventType(typeName))
      throw new ApiError(409, 'built_in_event_type', `"${typeName}" is a built-in event type and cannot be redefined`);
    const row = await this.rows.findOneBy({ organizationId: p.organizationId, name: typeName });
    if (!row) throw ApiError.notFound(`Event type "${typeName.slice(0, 64)}"`);
    const validate = compileOr400(input.schema);
    const examples = input.examples ?? row.examples;
    checkExamples(validate, examples);
    const schemaChanged = JSON.stringify(input.schema) !== JSON.stringify(row.schema);
    if (schemaChanged && !force) {
      const failures = await this.incompatibilities(p.organizationId, row, validate);
      if (failures.length) {
        throw new ApiError(
          409,
          'incompatible_schema',
          `The new schema of "${typeName}" rejects ${failures.length} example(s) or recent event(s) accepted under version ${row.version}; ` +
            'register it under a new name, or repeat with ?force=true',
          failures,
        );
      }
    }
    const before = viewOf(row);
    Object.assign(row, {
      description: input.description ?? row.description,
      schema: input.schema,
      examples,
      version: schemaChanged ? row.version + 1 : row.version,
      updatedAt: new Date().toISOString(),
    });
    await this.rows.save(row);
    await this.registry.announce(p.organizationId);
    const view = viewOf(row);
    await this.audit.record({
      organizationId: p.organizationId,
      actor: p.keyId,
      action: 'event_type.updated',
      resourceId: row.name,
      before,
      after: { ...view, forced: force || undefined },
    });
    return view;
  }

  /** 409 while webhooks name the type exactly, unless `force`. */
  async remove(p: Principal, typeName: string, force: boolean): Promise<void> {
    if (isEventType(typeName))
      throw new ApiError(409, 'built_in_event_type', `"${typeName}" is a built-in event type and cannot be deleted`);
    const row = await this.rows.findOneBy({ organizationId: p.organizationId, name: typeName });
    if (!row) throw ApiError.notFound(`Event type "${typeName.slice(0, 64)}"`);
    const refs = await this.directory.referencesTo(p.organizationId, typeName);
    if (refs.length && !force) {
      throw new ApiError(
        409,
        'event_type_in_use',
        `${refs.length} webhook(s) subscribe to "${typeName}"; change them first, or repeat with ?force=true`,
        refs.map((id) => ({ field: 'webhooks', message: `webhook ${id} names "${typeName}"`, webhookId: id })),
      );
    }
    await this.rows.delete({ id: row.id });
    await this.registry.announce(p.organizationId);
    await this.audit.record({
      organizationId: p.organizationId,
      actor: p.keyId,
      action: 'event_type.deleted',
      resourceId: row.name,
      before: { ...viewOf(row), forced: force || undefined, referencedBy: refs.length ? refs : undefined },
    });
  }

  private async incompatibilities(organizationId: string, row: EventTypeRow, validate: CompiledSchema): Promise<ErrorDetail[]> {
    const failures: ErrorDetail[] = row.examples.flatMap((ex, i) =>
      (validationFailures(validate, ex, `examples.${i}`) ?? []).map((f) => ({ ...f, source: 'stored example' })),
    );
    const { events } = await this.history.page(organizationId, { eventType: row.name, limit: COMPAT_HISTORY_EVENTS });
    for (const e of events) {
      const f = validationFailures(validate, e.data, 'data');
      if (f) failures.push(...f.map((d) => ({ ...d, source: 'accepted event', eventId: e.id })));
    }
    return failures.slice(0, 20);
  }
}
