import { Controller, Get, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { IncomingMessage } from 'node:http';
import type { Request, Response } from 'express';
import { AuthService } from '../auth/auth.service.js';
import { adminCredentialFrom } from '../auth/credentials.js';
import { Public } from '../auth/guards.js';
import { ApiError } from '../common/api-error.js';
import { PrometheusMetrics } from './prometheus-metrics.js';

/** Open when no ADMIN_TOKEN is configured; otherwise Bearer <token> or HTTP Basic with the token as password. */
export function scrapeRefusal(auth: AuthService, req: Pick<IncomingMessage, 'headers'>): ApiError | null {
  if (!auth.adminEnabled || auth.isAdminToken(adminCredentialFrom(req))) return null;
  return new ApiError(401, 'unauthorized', 'Missing or invalid admin token', [], {
    'WWW-Authenticate': 'Basic realm="metrics", charset="UTF-8"',
  });
}

@ApiTags('operations')
@Public()
@Controller()
export class PrometheusController {
  constructor(
    private readonly metrics: PrometheusMetrics,
    private readonly auth: AuthService,
  ) {}

  @Get('metrics')
  @ApiOperation({ summary: 'Prometheus text exposition of this process' })
  async scrape(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<string> {
    const refusal = scrapeRefusal(this.auth, req);
    if (refusal) throw refusal;
    res.type(this.metrics.registry.contentType);
    return this.metrics.registry.metrics();
  }
}
