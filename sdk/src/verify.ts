import { createHmac, timingSafeEqual } from 'node:crypto';
import { WebhookVerificationError } from './errors.js';
import type { Envelope } from './types.js';

export type HeaderBag = Headers | Record<string, string | string[] | undefined>;

export interface VerifyOptions {
  /** Accepted clock skew / age of a delivery, in seconds (default 300, as the seed). */
  toleranceSeconds?: number;
  /** Current time in ms (tests). */
  now?: number;
}

/** A delivery's body: one envelope, or `{ events }` for a batching webhook. */
export type WebhookPayload = Envelope | { events: Envelope[] };

function header(headers: HeaderBag, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const bag = headers as Record<string, string | string[] | undefined>;
  let v = bag[name];
  if (v === undefined) {
    const lower = name.toLowerCase();
    for (const k of Object.keys(bag)) if (k.toLowerCase() === lower) v = bag[k];
  }
  return Array.isArray(v) ? v[0] : v;
}

/** The Standard Webhooks key: the base64 after `whsec_`, else the secret's UTF-8 bytes (contract section 4). */
export function standardKey(secret: string): Buffer {
  return secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret, 'utf8');
}

function bytes(body: string | Uint8Array): Buffer {
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

function hmac(key: Buffer, ...parts: Buffer[]): Buffer {
  const h = createHmac('sha256', key);
  for (const p of parts) h.update(p);
  return h.digest();
}

/** Constant-time comparison; different lengths are simply unequal (never a RangeError). */
function same(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

const TS_RE = /^\d{1,12}$/;
const HEX_RE = /^[0-9a-fA-F]{64}$/;
const B64_RE = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Verifies a delivery and returns its parsed body. Accepts both schemes of the contract:
 * Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64> …`) and the Humana one
 * (`X-Humana-Timestamp`, `X-Humana-Signature`: hex HMAC of `<ts>.<body>`). `secret` may be a list (rotation).
 * `rawBody` must be the exact bytes received (not re-serialized JSON).
 * @throws WebhookVerificationError with `reason` missing_header | malformed_header | stale_timestamp | bad_signature
 */
export function verifyWebhook<T = WebhookPayload>(
  rawBody: string | Uint8Array,
  headers: HeaderBag,
  secret: string | readonly string[],
  opts: VerifyOptions = {},
): T {
  const secrets = (Array.isArray(secret) ? secret : [secret]).filter((s): s is string => typeof s === 'string' && s.length > 0);
  if (secrets.length === 0) throw new TypeError('verifyWebhook: a secret is required');
  if (rawBody === undefined || rawBody === null || (typeof rawBody !== 'string' && !(rawBody instanceof Uint8Array))) {
    throw new TypeError('verifyWebhook: rawBody must be the raw request body (string or Buffer)');
  }
  const body = bytes(rawBody);
  const tolerance = opts.toleranceSeconds ?? 300;
  const nowSec = Math.floor((opts.now ?? Date.now()) / 1000);

  const stdSig = header(headers, 'webhook-signature');
  const humanaSig = header(headers, 'x-humana-signature');
  if (stdSig === undefined && humanaSig === undefined) {
    throw new WebhookVerificationError('missing_header', 'No webhook-signature or X-Humana-Signature header');
  }

  const checkTs = (raw: string | undefined, name: string): string => {
    if (raw === undefined) throw new WebhookVerificationError('missing_header', `Missing ${name} header`);
    if (!TS_RE.test(raw)) throw new WebhookVerificationError('malformed_header', `${name} is not unix seconds`);
    if (Math.abs(nowSec - Number(raw)) > tolerance) {
      throw new WebhookVerificationError('stale_timestamp', `${name} is more than ${tolerance} s away from now`);
    }
    return raw;
  };

  let failure: WebhookVerificationError | undefined;
  if (stdSig !== undefined) {
    try {
      const id = header(headers, 'webhook-id');
      if (id === undefined) throw new WebhookVerificationError('missing_header', 'Missing webhook-id header');
      const ts = checkTs(header(headers, 'webhook-timestamp'), 'webhook-timestamp');
      const given: Buffer[] = [];
      for (const part of stdSig.split(' ')) {
        const comma = part.indexOf(',');
        if (comma < 0) continue;
        const [version, sig] = [part.slice(0, comma), part.slice(comma + 1)];
        if (version === 'v1' && B64_RE.test(sig)) given.push(Buffer.from(sig, 'base64'));
      }
      if (given.length === 0) throw new WebhookVerificationError('malformed_header', 'webhook-signature has no v1,<base64> signature');
      const prefix = Buffer.from(`${id}.${ts}.`, 'utf8');
      for (const s of secrets) {
        const expected = hmac(standardKey(s), prefix, body);
        if (given.some((g) => same(g, expected))) return parse<T>(body);
      }
      throw new WebhookVerificationError('bad_signature', 'No webhook-signature matches the secret');
    } catch (err) {
      if (!(err instanceof WebhookVerificationError) || humanaSig === undefined) throw err;
      failure = err;
    }
  }
  if (humanaSig !== undefined) {
    const ts = checkTs(header(headers, 'x-humana-timestamp'), 'X-Humana-Timestamp');
    if (!HEX_RE.test(humanaSig.trim()))
      throw failure ?? new WebhookVerificationError('malformed_header', 'X-Humana-Signature is not 64 hex digits');
    const given = Buffer.from(humanaSig.trim(), 'hex');
    const prefix = Buffer.from(`${ts}.`, 'utf8');
    for (const s of secrets) {
      if (same(given, hmac(Buffer.from(s, 'utf8'), prefix, body))) return parse<T>(body);
    }
    throw new WebhookVerificationError('bad_signature', 'X-Humana-Signature does not match the secret');
  }
  throw failure!;
}

function parse<T>(body: Buffer): T {
  const text = body.toString('utf8');
  try {
    return JSON.parse(text) as T;
  } catch {
    return text as T;
  }
}

/** The headers a real delivery carries (both schemes); the CLI's `listen` signs its forwards with this. */
export function signatureHeaders(opts: {
  secret: string;
  /** The `webhook-id` (the event id). */
  id: string;
  body: string;
  /** Unix seconds (default now). */
  timestamp?: number;
}): Record<string, string> {
  const ts = String(opts.timestamp ?? Math.floor(Date.now() / 1000));
  const humana = createHmac('sha256', Buffer.from(opts.secret, 'utf8')).update(`${ts}.${opts.body}`).digest('hex');
  const standard = createHmac('sha256', standardKey(opts.secret)).update(`${opts.id}.${ts}.${opts.body}`).digest('base64');
  return {
    'x-humana-timestamp': ts,
    'x-humana-signature': humana,
    'webhook-id': opts.id,
    'webhook-timestamp': ts,
    'webhook-signature': `v1,${standard}`,
  };
}

/** Minimal Express-compatible shapes (no runtime dependency on express). */
export interface RawBodyRequest {
  headers: Record<string, string | string[] | undefined>;
  body?: unknown;
  rawBody?: string | Uint8Array;
  webhook?: unknown;
}
interface ResponseLike {
  status(code: number): ResponseLike;
  json(body: unknown): unknown;
}

function rawBodyOf(req: RawBodyRequest): string | Uint8Array | undefined {
  if (typeof req.rawBody === 'string' || req.rawBody instanceof Uint8Array) return req.rawBody;
  if (typeof req.body === 'string' || req.body instanceof Uint8Array) return req.body;
  return undefined;
}

const NO_RAW_BODY =
  'humana-events: the raw request body is needed to verify a webhook; mount express.raw({ type: "application/json" }) ' +
  'before this middleware (or set req.rawBody; NestJS: NestFactory.create(AppModule, { rawBody: true }))';

/**
 * Express middleware: verifies the delivery, sets `req.webhook` to the parsed body and calls `next()`;
 * answers 401 `{"error":{"code":"invalid_signature","reason"}}` otherwise. Needs the RAW body:
 * `app.post('/hooks', express.raw({ type: 'application/json' }), expressMiddleware(secret), handler)`.
 */
export function expressMiddleware(secret: string | readonly string[], opts: VerifyOptions = {}) {
  return (req: RawBodyRequest, res: ResponseLike, next: (err?: unknown) => void): void => {
    const raw = rawBodyOf(req);
    if (raw === undefined) return next(new Error(NO_RAW_BODY));
    try {
      req.webhook = verifyWebhook(raw, req.headers, secret, opts);
    } catch (err) {
      if (err instanceof WebhookVerificationError) {
        res.status(401).json({ error: { code: 'invalid_signature', reason: err.reason, message: err.message } });
        return;
      }
      return next(err);
    }
    next();
  };
}

/** The slice of NestJS's ExecutionContext the guard uses (so the SDK needs no @nestjs import). */
export interface ExecutionContextLike {
  switchToHttp(): { getRequest<R = RawBodyRequest>(): R };
}

/**
 * A NestJS guard (structurally a `CanActivate`): `@UseGuards(new HumanaWebhookGuard(secret))`. Needs
 * `NestFactory.create(AppModule, { rawBody: true })` so `req.rawBody` is the exact bytes. On success `req.webhook` is
 * the parsed body; on failure it returns false (Nest answers 403) or throws what `opts.exception(err)` returns
 * (e.g. `(e) => new UnauthorizedException(e.message)`).
 */
export class HumanaWebhookGuard {
  constructor(
    private readonly secret: string | readonly string[],
    private readonly opts: VerifyOptions & { exception?: (err: WebhookVerificationError) => unknown } = {},
  ) {}

  canActivate(context: ExecutionContextLike): boolean {
    const req = context.switchToHttp().getRequest<RawBodyRequest>();
    const raw = rawBodyOf(req);
    if (raw === undefined) throw new Error(NO_RAW_BODY);
    try {
      req.webhook = verifyWebhook(raw, req.headers, this.secret, this.opts);
      return true;
    } catch (err) {
      if (!(err instanceof WebhookVerificationError)) throw err;
      if (this.opts.exception) throw this.opts.exception(err);
      return false;
    }
  }
}
