// The console's REST client and the contract's error shape: `{"error":{"code","message","details"}}`.

export class ApiError extends Error {
  /**
   * @param {number} status HTTP status (0: the request never got an answer)
   * @param {string} code machine code from the body, else `http_<status>`
   * @param {string} message human text
   * @param {Array<{field?: string, message: string}>} details
   */
  constructor(status, code, message, details = []) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** Builds the ApiError for a non-2xx answer from its raw body text (JSON in the contract's shape, or anything else). */
export function errorFromResponse(status, bodyText, statusText = '') {
  let body = null;
  try {
    body = bodyText ? JSON.parse(bodyText) : null;
  } catch {
    body = null;
  }
  const error = body && typeof body === 'object' ? body.error : null;
  if (error && typeof error === 'object' && typeof error.code === 'string') {
    const details = Array.isArray(error.details)
      ? error.details
          .filter((d) => d && typeof d === 'object')
          .map((d) => ({ field: typeof d.field === 'string' ? d.field : undefined, message: String(d.message ?? '') }))
      : [];
    return new ApiError(status, error.code, typeof error.message === 'string' ? error.message : statusText || `HTTP ${status}`, details);
  }
  const text = typeof bodyText === 'string' ? bodyText.trim().slice(0, 200) : '';
  return new ApiError(status, `http_${status}`, text && !text.startsWith('<') ? text : statusText || `HTTP ${status}`);
}

/** One line for the operator: message, code and status, plus hints for the statuses that need an action. */
export function errorSummary(err) {
  if (!(err instanceof ApiError)) return err instanceof Error ? err.message : String(err);
  if (err.status === 0) return `${err.message} (network error)`;
  const hint =
    err.status === 401
      ? ' — the key or token was refused (revoked or mistyped?); sign in again.'
      : err.status === 403
        ? ' — this API key lacks the scope for this action.'
        : '';
  return `${err.message} (${err.code}, HTTP ${err.status})${hint}`;
}

/**
 * A small fetch wrapper: bearer auth, JSON in and out, errors as ApiError.
 * @param {{ token: () => string | undefined, fetch?: typeof fetch }} options
 */
export function createApi({ token, fetch: fetchImpl = (...args) => globalThis.fetch(...args) }) {
  /**
   * @param {string} method
   * @param {string} path absolute path (`/api/v1/...`), query included
   * @param {{ body?: unknown, token?: string, okStatuses?: number[] }} [options] `okStatuses`: non-2xx statuses whose body is data (health's 503)
   */
  async function request(method, path, options = {}) {
    const headers = { Accept: 'application/json' };
    const bearer = options.token ?? token();
    if (bearer) headers.Authorization = `Bearer ${bearer}`;
    let body;
    if (options.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    let res;
    try {
      res = await fetchImpl(path, { method, headers, body, cache: 'no-store', credentials: 'omit' });
    } catch (err) {
      throw new ApiError(0, 'network_error', `Cannot reach the server: ${err instanceof Error ? err.message : String(err)}`);
    }
    const text = await res.text();
    if (!res.ok && !(options.okStatuses ?? []).includes(res.status)) throw errorFromResponse(res.status, text, res.statusText);
    if (!text) return null;
    try {
      return JSON.parse(text);
    } catch {
      throw new ApiError(res.status, 'bad_response', 'The server answered with something that is not JSON');
    }
  }
  return {
    request,
    get: (path, options) => request('GET', path, options),
    post: (path, body, options) => request('POST', path, { ...options, body: body ?? {} }),
    put: (path, body, options) => request('PUT', path, { ...options, body }),
    patch: (path, body, options) => request('PATCH', path, { ...options, body }),
    delete: (path, options) => request('DELETE', path, options),
  };
}

/** Percent-encodes one path segment (ids come from the server, but never trust them into a URL raw). */
export const seg = (value) => encodeURIComponent(String(value));
