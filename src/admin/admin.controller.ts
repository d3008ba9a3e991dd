import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { AuditService } from '../audit/audit.service.js';
import { parseOrThrow } from '../common/validation.js';
import { AuthService, type CreatedKey } from '../auth/auth.service.js';
import { AdminGuard, Public } from '../auth/guards.js';
import { SCOPES } from '../auth/scopes.js';
import { ApiJsonResponse } from '../common/api-schemas.js';
import {
  createdKeySchema,
  createdOrganizationSchema,
  organizationLimitsSchema,
  organizationListSchema,
  type OrganizationView,
} from './admin.responses.js';
import type { Organization } from '../auth/organization.entity.js';

const createOrgSchema = z.strictObject({ name: z.string().trim().min(1).max(200) });
const createKeySchema = z.strictObject({
  name: z.string().trim().max(200).optional(),
  scopes: z.array(z.enum(SCOPES)).min(1).optional(),
});
/** Known limit names; a missing one means unlimited. */
export const limitsSchema = z.strictObject({
  eventsPerMinute: z.number().int().positive().optional(),
  eventsPerMonth: z.number().int().positive().optional(),
  maxConnections: z.number().int().positive().optional(),
});

@ApiTags('admin')
@ApiBearerAuth()
@Public()
@UseGuards(AdminGuard)
@Controller('api/v1/admin/organizations')
export class AdminController {
  constructor(
    private readonly auth: AuthService,
    private readonly audit: AuditService,
  ) {}

  @Post()
  @ApiJsonResponse(createdOrganizationSchema, 201)
  async create(@Body() body: unknown): Promise<Omit<OrganizationView, 'limits'>> {
    const { name } = parseOrThrow(createOrgSchema, body);
    const org = await this.auth.createOrganization(name);
    return { id: org.id, name: org.name, createdAt: org.createdAt };
  }

  @Get()
  @ApiJsonResponse(organizationListSchema)
  async list(): Promise<{ organizations: OrganizationView[] }> {
    const orgs = await this.auth.listOrganizations();
    return { organizations: orgs.map((o) => ({ id: o.id, name: o.name, limits: o.limits, createdAt: o.createdAt })) };
  }

  @Patch(':id/limits')
  @ApiJsonResponse(organizationLimitsSchema)
  async setLimits(@Param('id') id: string, @Body() body: unknown): Promise<Pick<Organization, 'id' | 'limits'>> {
    const limits = parseOrThrow(limitsSchema, body);
    const before = (await this.auth.getOrganization(id)).limits;
    const org = await this.auth.updateLimits(id, limits);
    await this.audit.record({
      organizationId: id,
      actor: 'admin',
      action: 'organization.limits_updated',
      resourceId: id,
      before,
      after: limits,
    });
    return { id: org.id, limits: org.limits };
  }

  @Post(':id/api-keys')
  @ApiJsonResponse(createdKeySchema, 201)
  async createKey(@Param('id') id: string, @Body() body: unknown): Promise<CreatedKey> {
    const { name, scopes } = parseOrThrow(createKeySchema, body ?? {});
    const created = await this.auth.createKey(id, name ?? '', scopes);
    await this.audit.record({
      organizationId: id,
      actor: 'admin',
      action: 'api_key.created',
      resourceId: created.id,
      after: { name: created.name, scopes: created.scopes },
    });
    return created;
  }

  @Delete(':id/api-keys/:keyId')
  @HttpCode(204)
  async revokeKey(@Param('id') id: string, @Param('keyId') keyId: string): Promise<void> {
    await this.auth.revokeKey(id, keyId);
    await this.audit.record({ organizationId: id, actor: 'admin', action: 'api_key.revoked', resourceId: keyId });
  }
}
