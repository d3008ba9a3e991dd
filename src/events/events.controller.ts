import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { CurrentPrincipal, RequireScope } from '../auth/guards.js';
import type { Principal } from '../auth/principal.js';
import { ApiError } from '../common/api-error.js';
import { parseOrThrow } from '../common/validation.js';
import type { EventEnvelope } from './envelope.js';
import { HistoryService, historyQuerySchema, type HistoryPage } from './history.service.js';
import { EventPublisher, MAX_BATCH, publishInputSchema } from './publisher.js';
import { ApiJsonResponse } from '../common/api-schemas.js';
import { eventEnvelopeSchema, historyPageSchema } from './event.responses.js';

const batchSchema = z.strictObject({ events: z.array(z.unknown()).min(1).max(MAX_BATCH) });

const publishBody = z.toJSONSchema(publishInputSchema) as Record<string, unknown>;

function envelopeOf(e: EventEnvelope): EventEnvelope {
  return { id: e.id, type: e.type, organizationId: e.organizationId, timestamp: e.timestamp, data: e.data };
}

@ApiTags('events')
@ApiBearerAuth()
@Controller('api/v1')
export class EventsController {
  constructor(
    private readonly publisher: EventPublisher,
    private readonly history: HistoryService,
  ) {}

  @Post('events')
  @HttpCode(202)
  @RequireScope('events:write')
  @ApiOperation({ summary: 'Publish one event (202 once it is in the durable log)' })
  @ApiBody({ schema: publishBody })
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @ApiJsonResponse(eventEnvelopeSchema, 202)
  async publish(
    @CurrentPrincipal() p: Principal,
    @Body() body: unknown,
    @Headers('idempotency-key') idem?: string,
  ): Promise<EventEnvelope> {
    if (body === undefined) throw ApiError.jsonBodyRequired();
    if (idem !== undefined) parseOrThrow(publishInputSchema.shape.id, idem, 'Idempotency-Key');
    const { event } = await this.publisher.publish(p.organizationId, body, idem);
    return envelopeOf(event);
  }

  @Post('events/batch')
  @HttpCode(202)
  @RequireScope('events:write')
  @ApiOperation({ summary: 'Publish up to 1000 events; one result per input, in order' })
  async publishBatch(@CurrentPrincipal() p: Principal, @Body() body: unknown) {
    const { events } = parseOrThrow(batchSchema, body);
    const results = await this.publisher.publishBatch(p.organizationId, events);
    return { results: results.map((r) => ('error' in r ? { error: r.error } : { id: r.event.id, duplicate: r.duplicate || undefined })) };
  }

  @Get('events/history')
  @RequireScope('events:read')
  @ApiOperation({ summary: 'Event history, newest first, cursor-paginated' })
  @ApiJsonResponse(historyPageSchema)
  async historyPage(@CurrentPrincipal() p: Principal, @Query() query: Record<string, unknown>): Promise<HistoryPage> {
    return this.history.page(p.organizationId, parseOrThrow(historyQuerySchema, query));
  }

  // The literal `evt_` keeps /events/stream, /events/health and /events/metrics out of this route; the OpenAPI
  // document shows it as /api/v1/events/{id} (eventByIdPath in src/bootstrap.ts).
  @Get('events/evt_:rest')
  @RequireScope('events:read')
  @ApiOperation({ summary: 'One event by id' })
  @ApiJsonResponse(eventEnvelopeSchema)
  async byId(@CurrentPrincipal() p: Principal, @Param('rest') rest: string): Promise<EventEnvelope> {
    const e = await this.history.findById(p.organizationId, `evt_${rest}`);
    if (!e) throw ApiError.notFound('Event');
    return e;
  }
}
