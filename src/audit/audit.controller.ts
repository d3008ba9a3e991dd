import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { CurrentPrincipal, RequireScope } from '../auth/guards.js';
import type { Principal } from '../auth/principal.js';
import { parseOrThrow } from '../common/validation.js';
import { AuditService, type AuditPage } from './audit.service.js';
import { ApiJsonResponse } from '../common/api-schemas.js';
import { auditPageSchema } from './audit.responses.js';

const querySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(64).optional(),
  action: z.string().max(64).optional(),
});

@ApiTags('audit')
@ApiBearerAuth()
@Controller('api/v1/audit-log')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  /** Its own scope: snapshots describe receivers (URLs, header names) that a stream-only browser key must not see. */
  @Get()
  @RequireScope('audit:read')
  @ApiJsonResponse(auditPageSchema)
  list(@CurrentPrincipal() p: Principal, @Query() query: Record<string, unknown>): Promise<AuditPage> {
    const q = parseOrThrow(querySchema, query);
    return this.audit.page(p.organizationId, q.limit, q.cursor, q.action);
  }
}
