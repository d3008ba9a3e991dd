export { HumanaEvents, EventsApi, WebhooksApi, DlqApi, EventTypesApi, HealthApi, AuditLogApi, AdminApi } from './client.js';
export { HttpClient, Paginated, type ClientOptions, type FetchLike } from './http.js';
export {
  HumanaApiError,
  HumanaNetworkError,
  WebhookVerificationError,
  type ApiErrorDetail,
  type WebhookVerificationReason,
} from './errors.js';
export {
  verifyWebhook,
  signatureHeaders,
  expressMiddleware,
  HumanaWebhookGuard,
  standardKey,
  type VerifyOptions,
  type HeaderBag,
  type WebhookPayload,
  type RawBodyRequest,
  type ExecutionContextLike,
} from './verify.js';
export { SseParser, type SseMessage, type StreamOptions, type StreamFilterOptions } from './sse.js';
export type { SocketOptions } from './socket.js';
export type { ResumeOptions, ResumableIterator } from './resume.js';
export * from './generated/catalog.js';
export { typesModule, sample, type JsonSchema, type TypeDefinition } from './schema-types.js';
export type * from './types.js';
