import { HttpException, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { Request } from 'express';
import { catchError, throwError, type Observable } from 'rxjs';
import type { Principal } from '../auth/principal.js';
import { newId } from '../common/ids.js';
import { SystemEvents } from './system-events.js';

const ONCE_PER_MS = 60_000;

/**
 * An unexpected failure (not an HTTP error the code chose) while serving an organization's request becomes an
 * `error.occurred` event for that organization, at most once a minute per organization, without internals in it.
 */
@Injectable()
export class InternalErrorReporter implements NestInterceptor {
  private readonly lastReported = new Map<string, number>();

  constructor(private readonly systemEvents: SystemEvents) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (ctx.getType() !== 'http') return next.handle();
    return next.handle().pipe(
      catchError((err: unknown) => {
        if (!(err instanceof HttpException)) this.report(ctx.switchToHttp().getRequest<Request & { principal?: Principal }>());
        return throwError(() => err);
      }),
    );
  }

  private report(req: Request & { principal?: Principal }): void {
    const organizationId = req.principal?.organizationId;
    if (!organizationId) return;
    const now = Date.now();
    if ((this.lastReported.get(organizationId) ?? 0) > now - ONCE_PER_MS) return;
    if (this.lastReported.size > 10_000) this.lastReported.clear();
    this.lastReported.set(organizationId, now);
    const route = (req.route as { path?: string } | undefined)?.path ?? req.path;
    void this.systemEvents.publish(organizationId, 'error.occurred', {
      errorId: newId('err'),
      type: 'processing',
      message: `Internal error while handling ${req.method} ${route}`,
      severity: 'high',
    });
  }
}
