import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger, NotFoundException } from '@nestjs/common';
import type { Request, Response, NextFunction } from 'express';
import { ApiError, errorBody, type ErrorBody } from './api-error.js';

const STATUS_CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'unprocessable_entity',
  429: 'rate_limited',
  503: 'service_unavailable',
};

function isErrorBody(x: unknown): x is ErrorBody {
  return typeof x === 'object' && x !== null && 'error' in x && typeof (x as ErrorBody).error?.code === 'string';
}

/** Maps any thrown value to the contract's JSON error shape; never leaks stack traces. */
export function toErrorResponse(exception: unknown): { status: number; body: ErrorBody; headers: Record<string, string> } {
  if (exception instanceof ApiError) {
    return { status: exception.getStatus(), body: exception.getResponse() as ErrorBody, headers: exception.headers };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const res = exception.getResponse();
    if (isErrorBody(res)) return { status, body: res, headers: {} };
    const message =
      typeof res === 'string'
        ? res
        : typeof (res as { message?: unknown }).message === 'string'
          ? (res as { message: string }).message
          : exception.message;
    return { status, body: errorBody(STATUS_CODES[status] ?? `http_${status}`, message), headers: {} };
  }
  return { status: 500, body: errorBody('internal_error', 'Internal server error'), headers: {} };
}

interface RouteLayer {
  route?: { methods: Record<string, boolean> };
  match(path: string): unknown;
}

/**
 * For a request no route answered: the methods the app's routes take on its path (Express's route table), for a
 * 405's `Allow`. Layers that also take the request's own method let it pass (Nest middleware bound with `forRoutes`
 * sits in the table as an all-methods route), so they are not routes of this path.
 */
export function allowedMethods(req: Request): string[] {
  const stack = (req.app as unknown as { router?: { stack?: RouteLayer[] } }).router?.stack ?? [];
  const own = req.method.toLowerCase();
  const methods = new Set<string>();
  for (const layer of stack) {
    if (!layer.route || layer.route.methods[own] || !layer.match(req.path)) continue;
    for (const [method, on] of Object.entries(layer.route.methods)) if (on && method !== '_all') methods.add(method.toUpperCase());
  }
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods].sort();
}

/** Nest's "no route" 404 becomes a 405 with `Allow` when the path exists for other methods. */
function methodNotAllowed(exception: unknown, req: Request): ApiError | undefined {
  if (!(exception instanceof NotFoundException)) return undefined;
  const allow = allowedMethods(req);
  if (!allow.length) return undefined;
  return new ApiError(405, 'method_not_allowed', `${req.method} is not allowed on ${req.path}; allowed: ${allow.join(', ')}`, [], {
    Allow: allow.join(', '),
  });
}

@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') return;
    const res = host.switchToHttp().getResponse<Response>();
    const req = host.switchToHttp().getRequest<Request>();
    const { status, body, headers } = toErrorResponse(methodNotAllowed(exception, req) ?? exception);
    if (status >= 500) this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(status).set(headers).json(body);
  }
}

/** The one route with its own, larger body limit (MAX_BATCH_BODY_BYTES). */
export const BATCH_PUBLISH_PATH = '/api/v1/events/batch';

interface BodyParserError extends Error {
  type?: string;
  status?: number;
  limit?: number;
}

/** Express error middleware for failures before Nest routing (body-parser): malformed JSON → 400, too large → 413. */
export function bodyParserErrorHandler(err: BodyParserError, req: Request, res: Response, next: NextFunction): void {
  if (res.headersSent) return next(err);
  if (err.type === 'entity.too.large') {
    const setting = req.originalUrl.split('?')[0] === BATCH_PUBLISH_PATH ? 'MAX_BATCH_BODY_BYTES' : 'MAX_BODY_BYTES';
    const message = `Request body exceeds the limit of ${err.limit} bytes (${setting})`;
    res.status(413).json(errorBody('payload_too_large', message, [{ message, limit: err.limit, setting }]));
  } else if (err.type === 'entity.parse.failed') {
    res.status(400).json(errorBody('malformed_json', `Request body is not valid JSON: ${err.message}`));
  } else if (err.status && err.status >= 400 && err.status < 500) {
    res.status(err.status).json(errorBody(STATUS_CODES[err.status] ?? `http_${err.status}`, err.message));
  } else {
    next(err);
  }
}

const JSON_MEDIA_TYPE = /^application\/(?:json|[^/;\s]+\+json)\s*(?:;|$)/i;
/** What express.json parses (keep in step with JSON_MEDIA_TYPE). */
export const JSON_BODY_TYPES = ['application/json', 'application/*+json'];

/**
 * Before express.json, on the REST API: a POST/PUT/PATCH that carries a body in another media type (or none named)
 * gets a 415 naming Content-Type instead of reaching the route as "no body". Requests without a body pass through
 * (routes such as POST /webhooks/{id}/test take none); a route that needs one answers 415 from its validation.
 */
export function requireJsonBodies(req: Request, res: Response, next: NextFunction): void {
  const hasBody = req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0';
  const contentType = req.headers['content-type'];
  if (
    !hasBody ||
    !['POST', 'PUT', 'PATCH'].includes(req.method) ||
    !req.path.startsWith('/api/') ||
    JSON_MEDIA_TYPE.test(contentType ?? '')
  ) {
    return next();
  }
  const { status, body } = toErrorResponse(ApiError.jsonBodyRequired(contentType));
  res.status(status).json(body);
}
