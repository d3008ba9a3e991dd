import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { z } from 'zod';
import type { Repository } from 'typeorm';
import { eventIdBound, isEventId } from '../common/ids.js';
import { keysetPage } from '../common/keyset-page.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { EventRecord } from './event-record.entity.js';
import type { EventEnvelope } from './envelope.js';
import type { EventType } from './catalog.js';

export const historyQuerySchema = z.strictObject({
  eventType: z.string().max(64).optional(),
  companionId: z.string().max(256).optional(),
  userId: z.string().max(256).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().refine(isEventId, 'not a cursor returned by this API').optional(),
});
export type HistoryQuery = z.output<typeof historyQuerySchema>;

export interface HistoryPage {
  events: EventEnvelope[];
  nextCursor: string | null;
}

export function recordToEnvelope(r: EventRecord): EventEnvelope {
  return {
    id: r.id,
    type: r.type as EventType,
    organizationId: r.organizationId,
    timestamp: r.timestamp,
    data: JSON.parse(r.data) as Record<string, unknown>,
  };
}

/**
 * Reads the SQL history: always scoped to one organization, newest first, keyset-paginated by event id. A page holds
 * at most `limit` events and stops early once their JSON reaches PAGE_MAX_BYTES (nextCursor continues).
 */
@Injectable()
export class HistoryService {
  constructor(
    @InjectRepository(EventRecord) private readonly events: Repository<EventRecord>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async page(organizationId: string, q: HistoryQuery): Promise<HistoryPage> {
    const qb = this.events.createQueryBuilder('e').where('e.organization_id = :org', { org: organizationId });
    if (q.eventType) qb.andWhere('e.type = :type', { type: q.eventType });
    if (q.companionId) qb.andWhere('e.companion_id = :cid', { cid: q.companionId });
    if (q.userId) qb.andWhere('e.user_id = :uid', { uid: q.userId });
    // Event ids encode the log time, so a time range is an id range (index-friendly, no timestamp parsing).
    if (q.from) qb.andWhere('e.id >= :lo', { lo: eventIdBound(Date.parse(q.from), 'low') });
    if (q.to) qb.andWhere('e.id <= :hi', { hi: eventIdBound(Date.parse(q.to), 'high') });
    const { items, nextCursor } = await keysetPage(qb, 'e', 'DESC', q.limit, q.cursor, recordToEnvelope, {
      maxBytes: this.config.pageMaxBytes,
    });
    return { events: items, nextCursor };
  }

  async findById(organizationId: string, id: string): Promise<EventEnvelope | null> {
    const row = await this.events.findOneBy({ id, organizationId });
    return row ? recordToEnvelope(row) : null;
  }

  /** Events after `afterId` (exclusive), oldest first: resume and replay beyond the stream's window. */
  async after(organizationId: string, afterId: string, limit: number, toId?: string): Promise<EventEnvelope[]> {
    const qb = this.events
      .createQueryBuilder('e')
      .where('e.organization_id = :org', { org: organizationId })
      .andWhere('e.id > :after', { after: afterId });
    if (toId) qb.andWhere('e.id <= :to', { to: toId });
    const rows = await qb.orderBy('e.id', 'ASC').limit(limit).getMany();
    return rows.map(recordToEnvelope);
  }

  async purgeOlderThan(cutoffMs: number): Promise<number> {
    const res = await this.events
      .createQueryBuilder()
      .delete()
      .where('id < :bound', { bound: eventIdBound(cutoffMs, 'low') })
      .execute();
    return res.affected ?? 0;
  }
}
