import { Controller, Get, Headers, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { AllowQueryToken, CurrentPrincipal, RequireScope } from '../auth/guards.js';
import type { Principal } from '../auth/principal.js';
import { SseStreams } from './sse-streams.js';
import { EventTypeDirectory } from '../events/event-type-directory.js';
import { assertKnownTypes, parseStreamQuery } from './stream-filter.js';

@ApiTags('streams')
@ApiBearerAuth()
@Controller('api/v1/events')
export class SseController {
  constructor(
    private readonly streams: SseStreams,
    private readonly eventTypes: EventTypeDirectory,
  ) {}

  @Get('stream')
  @RequireScope('streams:read')
  @AllowQueryToken()
  @ApiOperation({
    summary: 'Server-Sent Events: the organization’s live events, filtered, resumable with Last-Event-ID',
    description:
      'Frames: `event: <type>`, `id: <evt id>`, `data: <event data JSON>`; `event: heartbeat` every HEARTBEAT_INTERVAL_MS (no id).',
  })
  @ApiProduces('text/event-stream')
  @ApiQuery({ name: 'companions', required: false, description: 'comma-separated companion ids' })
  @ApiQuery({ name: 'events', required: false, description: 'comma-separated types or patterns (message.*)' })
  @ApiQuery({ name: 'userId', required: false })
  @ApiQuery({ name: 'organizationId', required: false, description: 'must be the key’s own organization (403 otherwise)' })
  @ApiQuery({ name: 'lastEventId', required: false, description: 'same as the Last-Event-ID header' })
  @ApiQuery({ name: 'access_token', required: false, description: 'the API key, for browsers (EventSource cannot set headers)' })
  @ApiHeader({ name: 'Last-Event-ID', required: false })
  async stream(
    @CurrentPrincipal() principal: Principal,
    @Query() query: Record<string, unknown>,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const request = parseStreamQuery(query, principal, lastEventId);
    await assertKnownTypes(this.eventTypes, principal.organizationId, request.filter.types, 'events');
    await this.streams.open(principal, req, res, request);
  }
}
