import { HttpException } from '@nestjs/common';

export interface ErrorDetail {
  field?: string;
  message: string;
  [extra: string]: unknown;
}

export interface ErrorBody {
  error: { code: string; message: string; details: ErrorDetail[] };
}

/** The one error type routes throw: rendered as the contract's `{"error":{code,message,details}}`. */
export class ApiError extends HttpException {
  constructor(
    status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super({ error: { code, message, details } } satisfies ErrorBody, status);
    this.message = message;
  }

  static badRequest(message: string, details: ErrorDetail[] = []): ApiError {
    return new ApiError(400, 'validation_error', message, details);
  }
  static unauthorized(message = 'Missing or invalid API key'): ApiError {
    return new ApiError(401, 'unauthorized', message);
  }
  static forbidden(message: string): ApiError {
    return new ApiError(403, 'forbidden', message);
  }
  static notFound(what: string): ApiError {
    return new ApiError(404, 'not_found', `${what} not found`);
  }
  static conflict(message: string): ApiError {
    return new ApiError(409, 'conflict', message);
  }
  /** A JSON body was expected but none arrived (no body, or one express.json left unparsed: not JSON). */
  static jsonBodyRequired(contentType?: string): ApiError {
    const got = contentType ? `"${contentType}"` : 'no Content-Type';
    return new ApiError(
      415,
      'unsupported_media_type',
      `This route takes a JSON body: send it with "Content-Type: application/json" (got ${got})`,
      [{ field: 'Content-Type', message: 'must be application/json' }],
    );
  }
  static unavailable(message: string): ApiError {
    return new ApiError(503, 'service_unavailable', message);
  }
}

export function errorBody(code: string, message: string, details: ErrorDetail[] = []): ErrorBody {
  return { error: { code, message, details } };
}
