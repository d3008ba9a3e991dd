import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireScope } from '../auth/guards.js';
import type { Principal } from '../auth/principal.js';
import { ApiJsonResponse } from '../common/api-schemas.js';
import { parseOrThrow } from '../common/validation.js';
import { DeliveriesService, eventDeliveryListSchema } from './deliveries.service.js';
import { deliveryPageSchema } from './delivery.responses.js';

/**
 * An event's deliveries across the organization's webhooks. Here, not in src/events: the delivery feature owns
 * deliveries, and events must not depend on it. Scope `webhooks:read`, like every other read of the delivery log:
 * the answer carries webhook ids, URLs and response outcomes, which `events:read` alone does not show.
 */
@ApiTags('events')
@ApiBearerAuth()
@Controller('api/v1/events')
export class EventDeliveriesController {
  constructor(private readonly deliveries: DeliveriesService) {}

  @Get(':id/deliveries')
  @RequireScope('webhooks:read')
  @ApiOperation({ summary: "An event's deliveries to every webhook of the organization, newest first, cursor-paginated" })
  @ApiJsonResponse(deliveryPageSchema)
  async list(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Query() query: Record<string, unknown>) {
    return this.deliveries.listByEvent(p.organizationId, id, parseOrThrow(eventDeliveryListSchema, query));
  }
}
