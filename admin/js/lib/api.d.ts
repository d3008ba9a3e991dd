// Types for api.js (used by the Node tests).
export interface ErrorDetail {
  field?: string;
  message: string;
}
export declare class ApiError extends Error {
  constructor(status: number, code: string, message: string, details?: ErrorDetail[]);
  status: number;
  code: string;
  details: ErrorDetail[];
}
export declare function errorFromResponse(status: number, bodyText: string, statusText?: string): ApiError;
export declare function errorSummary(err: unknown): string;
export interface RequestOptions {
  body?: unknown;
  token?: string;
  okStatuses?: number[];
}
export interface Api {
  request(method: string, path: string, options?: RequestOptions): Promise<unknown>;
  get(path: string, options?: RequestOptions): Promise<unknown>;
  post(path: string, body?: unknown, options?: RequestOptions): Promise<unknown>;
  put(path: string, body: unknown, options?: RequestOptions): Promise<unknown>;
  patch(path: string, body: unknown, options?: RequestOptions): Promise<unknown>;
  delete(path: string, options?: RequestOptions): Promise<unknown>;
}
export declare function createApi(options: { token: () => string | undefined; fetch?: typeof fetch }): Api;
export declare function seg(value: unknown): string;
