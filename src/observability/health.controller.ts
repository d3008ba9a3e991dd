import { Controller, Get, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, type HealthCheckResult } from '@nestjs/terminus';
import type { Response } from 'express';
import { Public } from '../auth/guards.js';
import { HealthService, type EventSystemHealth } from './health.service.js';
import { ApiJsonResponse } from '../common/api-schemas.js';
import { eventSystemHealthSchema } from './observability.responses.js';

@ApiTags('operations')
@Public()
@Controller()
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get('api/v1/events/health')
  @HealthCheck({ swaggerDocumentation: false })
  @ApiOperation({ summary: 'Event system health (seed shape); 503 naming the failing check when unhealthy' })
  @ApiJsonResponse(eventSystemHealthSchema)
  @ApiJsonResponse(eventSystemHealthSchema, 503)
  async eventSystem(@Res({ passthrough: true }) res: Response): Promise<EventSystemHealth> {
    const report = await this.health.eventSystem();
    if (report.status === 'unhealthy') res.status(503);
    return report;
  }

  @Get('health/live')
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness: the process answers' })
  live(): Promise<HealthCheckResult> {
    return this.health.run([]);
  }

  @Get('health/ready')
  @HealthCheck()
  @ApiOperation({ summary: 'Readiness: Redis and the database answer (503 otherwise)' })
  async ready(@Res({ passthrough: true }) res: Response): Promise<HealthCheckResult> {
    const result = await this.health.ready();
    if (result.status === 'error') res.status(503);
    return result;
  }
}
