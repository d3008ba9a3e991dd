import { randomUUID } from 'node:crypto';
import { Injectable, type NestMiddleware } from '@nestjs/common';
import { context } from '@opentelemetry/api';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import type { Principal } from '../auth/principal.js';
import { AppLogger } from './app-logger.js';
import { InternalErrorReporter } from './internal-error-reporter.js';
import { PrometheusMetrics } from './prometheus-metrics.js';
import { contextFromHeaders } from '../common/tracing.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Per request: an `X-Request-Id` (kept from the caller when sane), the caller's W3C trace context made active (so a
 * publish joins the publisher's trace when tracing is exported), one JSON log line when it ends (debug for
 * successes), the duration histogram, and an `error.occurred` for the organization when it ended in a 500.
 */
@Injectable()
export class HttpObservabilityMiddleware implements NestMiddleware {
  private readonly log: Logger;

  constructor(
    logger: AppLogger,
    private readonly metrics: PrometheusMetrics,
    private readonly internalErrors: InternalErrorReporter,
  ) {
    this.log = logger.pino.child({ context: 'Http' });
  }

  use(req: Request & { principal?: Principal }, res: Response, next: NextFunction): void {
    const start = process.hrtime.bigint();
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    res.setHeader('X-Request-Id', requestId);
    res.once('close', () => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const status = res.statusCode;
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      this.metrics.httpDuration.observe({ method: req.method, route, status_code: String(status) }, seconds);
      if (status === 500 && req.principal) this.internalErrors.report(req.principal.organizationId, req.method, route);
      const level = status >= 500 ? 'error' : status >= 400 && status !== 429 ? 'info' : 'debug';
      if (!this.log.isLevelEnabled(level)) return;
      this.log[level]({
        msg: 'request',
        requestId,
        method: req.method,
        url: req.originalUrl,
        statusCode: status,
        durationMs: Math.round(seconds * 1e4) / 10,
        organizationId: req.principal?.organizationId,
        keyId: req.principal?.keyId,
        aborted: !res.writableFinished || undefined,
      });
    });
    const traceparent = req.headers.traceparent;
    if (typeof traceparent !== 'string') return next();
    const tracestate = typeof req.headers.tracestate === 'string' ? req.headers.tracestate : undefined;
    context.with(contextFromHeaders({ traceparent, tracestate }), next);
  }
}
