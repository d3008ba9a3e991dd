import { Controller, Get, Param, Query } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Repository } from 'typeorm';
import { CurrentPrincipal, RequireScope } from '../auth/guards.js';
import type { Principal } from '../auth/principal.js';
import { ApiError } from '../common/api-error.js';
import { parseOrThrow } from '../common/validation.js';
import { Webhook } from '../webhooks/webhook.entity.js';
import { EventMetricsService, METRIC_WINDOWS, metricsQuerySchema, type EventMetrics } from './event-metrics.service.js';
import { ApiJsonResponse } from '../common/api-schemas.js';
import { eventMetricsSchema } from './observability.responses.js';

const windowQuery = { name: 'window', required: false, enum: Object.keys(METRIC_WINDOWS), description: 'default 1h' };

@ApiTags('operations')
@ApiBearerAuth()
@Controller('api/v1')
export class EventMetricsController {
  constructor(
    private readonly metrics: EventMetricsService,
    @InjectRepository(Webhook) private readonly webhooks: Repository<Webhook>,
  ) {}

  @Get('events/metrics')
  @RequireScope('webhooks:read')
  @ApiOperation({ summary: "The organization's delivery metrics over a window (seed EventMetrics)" })
  @ApiQuery(windowQuery)
  @ApiJsonResponse(eventMetricsSchema)
  organization(@CurrentPrincipal() p: Principal, @Query() query: Record<string, unknown>): Promise<EventMetrics> {
    const { window } = parseOrThrow(metricsQuerySchema, query);
    return this.metrics.compute(p.organizationId, window);
  }

  @Get('webhooks/:id/metrics')
  @RequireScope('webhooks:read')
  @ApiOperation({ summary: "One webhook's delivery metrics over a window" })
  @ApiQuery(windowQuery)
  @ApiJsonResponse(eventMetricsSchema)
  async webhook(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Query() query: Record<string, unknown>): Promise<EventMetrics> {
    const { window } = parseOrThrow(metricsQuerySchema, query);
    if (!(await this.webhooks.existsBy({ id, organizationId: p.organizationId }))) throw ApiError.notFound('Webhook');
    return this.metrics.compute(p.organizationId, window, id);
  }
}
