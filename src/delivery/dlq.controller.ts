import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { AuditService } from '../audit/audit.service.js';
import { CurrentPrincipal, RequireScope } from '../auth/guards.js';
import type { Principal } from '../auth/principal.js';
import { parseOrThrow } from '../common/validation.js';
import { DeadLetters, dlqFilterSchema, dlqListSchema } from './dead-letters.js';
import { ApiJsonResponse } from '../common/api-schemas.js';
import { bulkRetrySchema, dlqPageSchema, purgeResultSchema, queuedDeliverySchema } from './delivery.responses.js';

const purgeSchema = z.strictObject({ olderThan: z.iso.datetime({ offset: true }) });

@ApiTags('dlq')
@ApiBearerAuth()
@Controller('api/v1/dlq')
export class DlqController {
  constructor(
    private readonly dlq: DeadLetters,
    private readonly audit: AuditService,
  ) {}

  @Get()
  @RequireScope('webhooks:read')
  @ApiOperation({ summary: 'Failed deliveries (the seed FailedWebhook records), newest first' })
  @ApiJsonResponse(dlqPageSchema)
  list(@CurrentPrincipal() p: Principal, @Query() query: Record<string, unknown>) {
    return this.dlq.list(p.organizationId, parseOrThrow(dlqListSchema, query));
  }

  @Post('retry')
  @HttpCode(202)
  @RequireScope('dlq:manage')
  @ApiOperation({ summary: 'Retry every entry matching the filters (bulk)' })
  @ApiJsonResponse(bulkRetrySchema, 202)
  async retryMany(@CurrentPrincipal() p: Principal, @Body() body: unknown) {
    const filters = parseOrThrow(dlqFilterSchema, body ?? {});
    const result = await this.dlq.retryMany(p.organizationId, filters);
    await this.audit.record({
      organizationId: p.organizationId,
      actor: p.keyId,
      action: 'dlq.retried',
      after: { filters, retried: result.retried, skipped: result.skippedEntries },
    });
    return result;
  }

  @Post(':id/retry')
  @HttpCode(202)
  @RequireScope('dlq:manage')
  @ApiJsonResponse(queuedDeliverySchema, 202)
  async retry(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    const { deliveryId, entry } = await this.dlq.retry(p.organizationId, id);
    await this.audit.record({
      organizationId: p.organizationId,
      actor: p.keyId,
      action: 'dlq.retried',
      resourceId: id,
      after: { deliveryId, webhookId: entry.webhookId, eventId: entry.eventId },
    });
    return { deliveryId };
  }

  @Delete()
  @RequireScope('dlq:manage')
  @ApiJsonResponse(purgeResultSchema)
  async purge(@CurrentPrincipal() p: Principal, @Query() query: Record<string, unknown>) {
    const { olderThan } = parseOrThrow(purgeSchema, query);
    const purged = await this.dlq.purge(new Date(olderThan), p.organizationId);
    await this.audit.record({ organizationId: p.organizationId, actor: p.keyId, action: 'dlq.purged', after: { olderThan, purged } });
    return { purged };
  }
}
