/** One entry of an API error's `details` (validation errors name the field). */
export interface ApiErrorDetail {
  field?: string;
  message?: string;
  [key: string]: unknown;
}

/** A non-2xx answer of the API: `{"error":{"code","message","details"}}` (contract section 2). */
export class HumanaApiError extends Error {
  override readonly name = 'HumanaApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ApiErrorDetail[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** The server could not be reached (or kept answering 502/503/504) after every retry. */
export class HumanaNetworkError extends Error {
  override readonly name = 'HumanaNetworkError';
  constructor(
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}

export type WebhookVerificationReason = 'missing_header' | 'bad_signature' | 'stale_timestamp' | 'malformed_header';

/** A webhook request that does not verify; `reason` says why. */
export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';
  constructor(
    readonly reason: WebhookVerificationReason,
    message: string,
  ) {
    super(message);
  }
}
