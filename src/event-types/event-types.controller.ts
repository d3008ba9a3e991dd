import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { AuthService } from '../auth/auth.service.js';
import { credentialFrom } from '../auth/credentials.js';
import { CurrentPrincipal, Public, RequireScope } from '../auth/guards.js';
import type { Principal } from '../auth/principal.js';
import { ApiError } from '../common/api-error.js';
import { parseOrThrow } from '../common/validation.js';
import { buildAsyncApi } from './asyncapi.js';
import { EventTypesService, forceQuerySchema } from './event-types.service.js';
import { ApiJsonResponse } from '../common/api-schemas.js';
import { eventTypeListSchema, eventTypeSchema } from './event-type.responses.js';

/** Public routes that also show the organization's own types when called with an API key (a bad key is still a 401). */
async function optionalOrganization(auth: AuthService, req: Request): Promise<string | null> {
  const credential = credentialFrom(req, false);
  if (!credential) return null;
  const principal = await auth.authenticate(credential);
  if (!principal) throw ApiError.unauthorized();
  return principal.organizationId;
}

const force = (query: unknown) => parseOrThrow(forceQuerySchema, query ?? {}).force === 'true';

@ApiTags('event-types')
@ApiBearerAuth()
@Controller('api/v1')
export class EventTypesController {
  constructor(
    private readonly service: EventTypesService,
    private readonly auth: AuthService,
  ) {}

  @Public()
  @Get('event-types')
  @ApiOperation({ summary: "The catalog: built-in types and, with an API key, the organization's own (JSON Schema each)" })
  @ApiJsonResponse(eventTypeListSchema)
  async list(@Req() req: Request) {
    return { eventTypes: await this.service.list(await optionalOrganization(this.auth, req)) };
  }

  @Public()
  @Get('event-types/:name')
  @ApiOperation({ summary: "One event type (own types need the organization's API key; 404 otherwise)" })
  @ApiJsonResponse(eventTypeSchema)
  async get(@Req() req: Request, @Param('name') name: string) {
    return this.service.get(await optionalOrganization(this.auth, req), name);
  }

  @Post('event-types')
  @RequireScope('events:write')
  @ApiOperation({ summary: 'Register an event type for the organization: name, description, JSON Schema (draft 2020-12), examples' })
  @ApiJsonResponse(eventTypeSchema, 201)
  create(@CurrentPrincipal() p: Principal, @Body() body: unknown) {
    return this.service.create(p, body);
  }

  @Put('event-types/:name')
  @RequireScope('events:write')
  @ApiOperation({ summary: 'Change an own type; a schema that rejects stored examples or recent events needs ?force=true' })
  @ApiJsonResponse(eventTypeSchema)
  replace(@CurrentPrincipal() p: Principal, @Param('name') name: string, @Body() body: unknown, @Query() query: unknown) {
    return this.service.replace(p, name, body, force(query));
  }

  @Delete('event-types/:name')
  @HttpCode(204)
  @RequireScope('events:write')
  @ApiOperation({ summary: 'Delete an own type; 409 while webhooks name it unless ?force=true' })
  async remove(@CurrentPrincipal() p: Principal, @Param('name') name: string, @Query() query: unknown): Promise<void> {
    await this.service.remove(p, name, force(query));
  }

  @Public()
  @Get('asyncapi.json')
  @ApiOperation({
    summary: "AsyncAPI 3.0: SSE stream, WebSocket protocol, webhook payloads (with an API key: the organization's own types too)",
  })
  async asyncapi(@Req() req: Request) {
    const types = await this.service.list(await optionalOrganization(this.auth, req));
    return buildAsyncApi(types, {
      host: req.headers.host ?? 'localhost',
      scheme: req.protocol === 'https' ? 'https' : 'http',
      version: '1.0.0',
    });
  }
}
