import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireScope } from '../auth/guards.js';
import type { Principal } from '../auth/principal.js';
import { WebhooksService } from '../webhooks/webhooks.service.js';
import { DeliveryQueue } from './delivery-queue.js';
import { ApiJsonResponse } from '../common/api-schemas.js';
import { webhookDetailSchema } from '../webhooks/webhook.responses.js';
import { backlogSchema } from './delivery.responses.js';

/** Endpoint control (contract section 8): pause, resume, backlog. */
@ApiTags('webhooks')
@ApiBearerAuth()
@Controller('api/v1/webhooks')
export class EndpointsController {
  constructor(
    private readonly webhooks: WebhooksService,
    private readonly queue: DeliveryQueue,
  ) {}

  @Post(':id/pause')
  @HttpCode(200)
  @RequireScope('webhooks:write')
  @ApiOperation({ summary: 'Pause deliveries: matching events wait in the backlog (none attempted, none dead-lettered)' })
  @ApiJsonResponse(webhookDetailSchema)
  pause(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.webhooks.setPaused(p, id, true);
  }

  @Post(':id/resume')
  @HttpCode(200)
  @RequireScope('webhooks:write')
  @ApiOperation({ summary: 'Resume deliveries: the backlog drains in log order (at the rate limit)' })
  @ApiJsonResponse(webhookDetailSchema)
  async resume(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    const view = await this.webhooks.setPaused(p, id, false);
    await this.queue.kickDrain({ id, organizationId: p.organizationId });
    return view;
  }

  @Get(':id/backlog')
  @RequireScope('webhooks:read')
  @ApiJsonResponse(backlogSchema)
  async backlog(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.queue.backlog(await this.webhooks.get(p.organizationId, id));
  }
}
