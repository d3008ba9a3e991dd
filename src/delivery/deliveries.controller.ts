import { Controller, Get, HttpCode, Param, Post, Query, Body } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuditService } from '../audit/audit.service.js';
import { CurrentPrincipal, RequireScope } from '../auth/guards.js';
import type { Principal } from '../auth/principal.js';
import { parseOrThrow } from '../common/validation.js';
import { WebhooksService } from '../webhooks/webhooks.service.js';
import { DeliveriesService, deliveryListSchema, replayRangeSchema } from './deliveries.service.js';
import { ApiJsonResponse } from '../common/api-schemas.js';
import {
  deliveryDetailSchema,
  deliveryPageSchema,
  queuedDeliverySchema,
  replayRangeResultSchema,
  testResultSchema,
} from './delivery.responses.js';

/** A webhook's deliveries: test send, delivery log, replay of one delivery or of a time range. */
@ApiTags('webhooks')
@ApiBearerAuth()
@Controller('api/v1/webhooks')
export class DeliveriesController {
  constructor(
    private readonly webhooks: WebhooksService,
    private readonly deliveries: DeliveriesService,
    private readonly audit: AuditService,
  ) {}

  @Post(':id/test')
  @HttpCode(200)
  @RequireScope('webhooks:write')
  @ApiOperation({ summary: 'Send a webhook.test event now and report the attempt' })
  @ApiJsonResponse(testResultSchema)
  async test(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    const { success, statusCode, duration, error, deliveryId } = await this.deliveries.test(await this.webhooks.get(p.organizationId, id));
    return { success, statusCode, duration, error, deliveryId };
  }

  @Get(':id/deliveries')
  @RequireScope('webhooks:read')
  @ApiJsonResponse(deliveryPageSchema)
  async deliveriesList(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Query() query: Record<string, unknown>) {
    const q = parseOrThrow(deliveryListSchema, query);
    return this.deliveries.list(await this.webhooks.get(p.organizationId, id), q);
  }

  @Get(':id/deliveries/:deliveryId')
  @RequireScope('webhooks:read')
  @ApiJsonResponse(deliveryDetailSchema)
  async delivery(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Param('deliveryId') deliveryId: string) {
    return this.deliveries.get(await this.webhooks.get(p.organizationId, id), deliveryId);
  }

  @Post(':id/deliveries/:deliveryId/replay')
  @HttpCode(202)
  @RequireScope('webhooks:write')
  @ApiJsonResponse(queuedDeliverySchema, 202)
  async replayDelivery(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Param('deliveryId') deliveryId: string) {
    const result = await this.deliveries.replay(await this.webhooks.get(p.organizationId, id), deliveryId);
    await this.audit.record({
      organizationId: p.organizationId,
      actor: p.keyId,
      action: 'delivery.replayed',
      resourceId: deliveryId,
      after: result,
    });
    return { deliveryId: result.deliveryId };
  }

  @Post(':id/replay')
  @HttpCode(202)
  @RequireScope('webhooks:write')
  @ApiOperation({ summary: 'Re-deliver retained events of a time range that the webhook matches' })
  @ApiJsonResponse(replayRangeResultSchema, 202)
  async replayRange(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() body: unknown) {
    const range = parseOrThrow(replayRangeSchema, body);
    const result = await this.deliveries.replayRange(await this.webhooks.get(p.organizationId, id), range);
    await this.audit.record({
      organizationId: p.organizationId,
      actor: p.keyId,
      action: 'webhook.replayed',
      resourceId: id,
      after: { ...range, ...result },
    });
    return result;
  }
}
