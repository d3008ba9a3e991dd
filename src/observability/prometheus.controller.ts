import { Controller, Get, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { AuthService } from '../auth/auth.service.js';
import { adminCredentialFrom } from '../auth/credentials.js';
import { Public } from '../auth/guards.js';
import { ApiError } from '../common/api-error.js';
import { PrometheusMetrics } from './prometheus-metrics.js';

@ApiTags('operations')
@Public()
@Controller()
export class PrometheusController {
  constructor(
    private readonly metrics: PrometheusMetrics,
    private readonly auth: AuthService,
  ) {}

  /** Open when no ADMIN_TOKEN is configured; otherwise Bearer <token> or HTTP Basic with the token as password. */
  @Get('metrics')
  @ApiOperation({ summary: 'Prometheus text exposition of this process' })
  async scrape(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<string> {
    if (this.auth.adminEnabled && !this.auth.isAdminToken(adminCredentialFrom(req))) {
      throw new ApiError(401, 'unauthorized', 'Missing or invalid admin token', [], { 'WWW-Authenticate': 'Basic realm="metrics", charset="UTF-8"' });
    }
    res.type(this.metrics.registry.contentType);
    return this.metrics.registry.metrics();
  }
}
