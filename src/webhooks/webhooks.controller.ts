import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { CurrentPrincipal, RequireScope } from '../auth/guards.js';
import type { Principal } from '../auth/principal.js';
import { ApiError } from '../common/api-error.js';
import { parseOrThrow } from '../common/validation.js';
import { envelopeOf, type EventEnvelope } from '../events/envelope.js';
import { TransformError, TransformUnavailableError } from './transform.js';
import { TransformPool } from './transform-pool.js';
import {
  createWebhookSchema,
  listQuerySchema,
  patchWebhookSchema,
  replaceWebhookSchema,
  rotateSecretSchema,
  transformTestSchema,
} from './webhook.schemas.js';
import { WebhooksService } from './webhooks.service.js';
import { ApiJsonResponse } from '../common/api-schemas.js';
import {
  createdWebhookSchema,
  rotatedSecretSchema,
  webhookDetailSchema,
  webhookListSchema,
  webhookSecretSchema,
} from './webhook.responses.js';

@ApiTags('webhooks')
@ApiBearerAuth()
@Controller('api/v1/webhooks')
export class WebhooksController {
  constructor(
    private readonly webhooks: WebhooksService,
    private readonly transforms: TransformPool,
  ) {}

  @Post()
  @RequireScope('webhooks:write')
  @ApiOperation({ summary: 'Create a webhook (the secret is returned once, generated as whsec_… when absent)' })
  @ApiBody({ schema: z.toJSONSchema(createWebhookSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown> })
  @ApiJsonResponse(createdWebhookSchema, 201)
  create(@CurrentPrincipal() p: Principal, @Body() body: unknown) {
    return this.webhooks.create(p, parseOrThrow(createWebhookSchema, body));
  }

  @Get()
  @RequireScope('webhooks:read')
  @ApiJsonResponse(webhookListSchema)
  list(@CurrentPrincipal() p: Principal, @Query() query: Record<string, unknown>) {
    const q = parseOrThrow(listQuerySchema, query);
    return this.webhooks.list(p.organizationId, q.limit, q.cursor);
  }

  // Declared before the `:id` routes so "transform" is never taken for an id.
  @Post('transform/test')
  @HttpCode(200)
  @RequireScope('webhooks:write')
  @ApiOperation({ summary: 'Preview a JSONata transform on an event' })
  async transformTest(@CurrentPrincipal() p: Principal, @Body() body: unknown) {
    const { transform, event } = parseOrThrow(transformTestSchema, body);
    const envelope = envelopeOf({
      id: 'evt_preview',
      timestamp: new Date().toISOString(),
      ...event,
      organizationId: p.organizationId,
    } as EventEnvelope);
    try {
      return { body: JSON.parse(await this.transforms.run(transform, envelope)) as unknown };
    } catch (err) {
      if (err instanceof TransformUnavailableError) throw ApiError.unavailable(`transform: ${err.message}`);
      if (!(err instanceof TransformError)) throw err;
      throw ApiError.badRequest(`transform: ${err.message}`, [{ field: 'transform', message: err.message }]);
    }
  }

  @Get(':id')
  @RequireScope('webhooks:read')
  @ApiJsonResponse(webhookDetailSchema)
  async get(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.webhooks.view(await this.webhooks.get(p.organizationId, id));
  }

  @Put(':id')
  @RequireScope('webhooks:write')
  @ApiBody({ schema: z.toJSONSchema(replaceWebhookSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown> })
  @ApiJsonResponse(webhookDetailSchema)
  replace(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() body: unknown) {
    return this.webhooks.replace(p, id, parseOrThrow(replaceWebhookSchema, body));
  }

  @Patch(':id')
  @RequireScope('webhooks:write')
  @ApiBody({ schema: z.toJSONSchema(patchWebhookSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown> })
  @ApiJsonResponse(webhookDetailSchema)
  patch(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() body: unknown) {
    return this.webhooks.patch(p, id, parseOrThrow(patchWebhookSchema, body));
  }

  @Delete(':id')
  @HttpCode(204)
  @RequireScope('webhooks:write')
  async remove(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<void> {
    await this.webhooks.remove(p, id);
  }

  @Get(':id/secret')
  @RequireScope('webhooks:write')
  @ApiJsonResponse(webhookSecretSchema)
  secret(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.webhooks.secret(p.organizationId, id);
  }

  @Post(':id/secret/rotate')
  @HttpCode(200)
  @RequireScope('webhooks:write')
  @ApiOperation({ summary: 'Rotate the secret; the previous one stays valid (and signed with) for 24 h' })
  @ApiJsonResponse(rotatedSecretSchema)
  rotate(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() body: unknown) {
    return this.webhooks.rotateSecret(p, id, parseOrThrow(rotateSecretSchema, body ?? {}).secret);
  }
}
