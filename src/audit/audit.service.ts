import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { newId } from '../common/ids.js';
import { maskHeaderValues, maskUrl } from '../common/secret-masking.js';
import { AuditEntry } from './audit-entry.entity.js';

export interface AuditRecord {
  organizationId: string;
  actor: string;
  action: string;
  resourceId?: string;
  before?: unknown;
  after?: unknown;
}

export interface AuditPage {
  entries: AuditEntry[];
  nextCursor: string | null;
}

const SECRET_FIELDS = new Set(['secret', 'key', 'keyHash', 'password', 'token']);

/**
 * Drops secrets from before/after snapshots: the audit log must never hold them. Besides secret fields, a receiver's
 * credentials live in custom header values (`Authorization: Bearer …`) and in URLs (userinfo, query string), so
 * every `headers` object keeps only its names and every `url` only its scheme, host and path. Idempotent.
 */
function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactField(k, v)]));
  }
  return value;
}

function redactField(name: string, value: unknown): unknown {
  if (SECRET_FIELDS.has(name)) return '[redacted]';
  if (name === 'headers' && value && typeof value === 'object' && !Array.isArray(value))
    return maskHeaderValues(value as Record<string, unknown>);
  if (name === 'url' && typeof value === 'string') return maskUrl(value);
  return redact(value);
}

function snapshot(value: unknown): Record<string, unknown> | null {
  if (value === undefined || value === null) return null;
  const v = redact(value);
  return typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : { value: v };
}

@Injectable()
export class AuditService {
  constructor(@InjectRepository(AuditEntry) private readonly entries: Repository<AuditEntry>) {}

  async record(r: AuditRecord): Promise<void> {
    await this.entries.save(
      Object.assign(new AuditEntry(), {
        id: newId('aud'),
        organizationId: r.organizationId,
        actor: r.actor,
        action: r.action,
        resourceId: r.resourceId ?? null,
        before: snapshot(r.before),
        after: snapshot(r.after),
        timestamp: new Date().toISOString(),
      }),
    );
  }

  async page(organizationId: string, limit: number, cursor?: string, action?: string): Promise<AuditPage> {
    const qb = this.entries.createQueryBuilder('a').where('a.organization_id = :org', { org: organizationId });
    if (cursor) qb.andWhere('a.id < :cursor', { cursor });
    if (action) qb.andWhere('a.action = :action', { action });
    const rows = await qb
      .orderBy('a.id', 'DESC')
      .limit(limit + 1)
      .getMany();
    const more = rows.length > limit;
    const page = more ? rows.slice(0, limit) : rows;
    // Masked again on read: entries written before URL and header masking existed must not show them either.
    for (const e of page) Object.assign(e, { before: e.before && snapshot(e.before), after: e.after && snapshot(e.after) });
    return { entries: page, nextCursor: more ? page[page.length - 1].id : null };
  }
}
