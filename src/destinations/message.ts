import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { EventEnvelope } from '../events/envelope.js';
import type { SendFailureKind, SendRequest, SendResult, UrlProblem } from './destination.js';
import { bareHost, isForbiddenAddress } from './url-guard.js';

/*
 * What every broker destination shares: the message's headers, subject/topic/key placeholders, the SSRF check before a
 * connection, one cached connection per target, timeouts and the classification of failures.
 */

/**
 * The headers a broker message carries (AMQP headers, NATS headers, MQTT 5 user properties, Redis stream fields, e-mail
 * headers): everything the executor signed with (`X-Humana-*`, `webhook-*`, `traceparent`) and the webhook's own,
 * without the HTTP-only ones (the content type is a message property where the protocol has one).
 */
export function messageHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (k !== 'user-agent' && k !== 'content-type') out[k] = v;
  return out;
}

/** The message id receivers (and JetStream) de-duplicate on: the event id, or the delivery id of a batch. */
export function messageIdOf(headers: Record<string, string>): string {
  return headers['webhook-id'] ?? headers['x-humana-delivery'] ?? '';
}

const PLACEHOLDER = /\{([^{}]*)\}/g;
const DATA_PATH = /^data(\.[A-Za-z0-9_-]+)+$/;

/** Problems with `{…}` placeholders in a subject/topic/key template: only `{type}`, `{organizationId}`, `{data.<path>}`. */
export function templateProblems(field: string, template: string): UrlProblem[] {
  const problems: UrlProblem[] = [];
  for (const m of template.matchAll(PLACEHOLDER)) {
    const name = m[1];
    if (name !== 'type' && name !== 'organizationId' && !DATA_PATH.test(name)) {
      problems.push({ field, message: `unknown placeholder "{${name}}": use {type}, {organizationId} or {data.<dotted path>}` });
    }
  }
  const rest = template.replace(PLACEHOLDER, '');
  if (rest.includes('{') || rest.includes('}')) problems.push({ field, message: 'unbalanced "{" or "}"' });
  return problems;
}

function valueAt(data: unknown, path: string[]): string {
  let v: unknown = data;
  for (const p of path) {
    if (v === null || typeof v !== 'object' || !Object.hasOwn(v, p)) return '';
    v = (v as Record<string, unknown>)[p];
  }
  if (v === null || v === undefined) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/**
 * Renders a template for one event; each rendered value (never the template's literal text) goes through `sanitize`,
 * the broker's naming rule. A missing value renders as `_`.
 */
export function renderTemplate(
  template: string,
  event: EventEnvelope | undefined,
  sanitize: (value: string, placeholder: string) => string,
): string {
  if (!template.includes('{')) return template;
  return template.replace(PLACEHOLDER, (_m, name: string) => {
    let v = '';
    if (event) {
      if (name === 'type') v = event.type;
      else if (name === 'organizationId') v = event.organizationId;
      else v = valueAt(event.data, name.split('.').slice(1));
    }
    const s = sanitize(v.slice(0, 200), name);
    return s === '' ? '_' : s;
  });
}

export class BlockedError extends Error {}
export class TimeoutError extends Error {}
/** The broker answered and refused (retryable unless `permanent`). */
export class BrokerError extends Error {
  constructor(
    message: string,
    readonly permanent = false,
  ) {
    super(message);
  }
}

/**
 * The address to connect to for a URL's host. With private addresses refused, the host is resolved here and the
 * address that passed the SSRF rule is the one connected to (no second lookup for DNS rebinding to exploit).
 */
export async function connectAddress(url: URL, allowPrivate: boolean): Promise<string> {
  const host = bareHost(url.hostname);
  if (allowPrivate) return host;
  if (isIP(host)) {
    if (isForbiddenAddress(host)) throw new BlockedError(`${host} is a private, loopback, link-local or metadata address: not allowed`);
    return host;
  }
  const addresses = await lookup(host, { all: true, verbatim: true });
  const bad = addresses.find((a) => isForbiddenAddress(a.address));
  if (bad) throw new BlockedError(`${host} resolves to ${bad.address}, a private, loopback, link-local or metadata address: not allowed`);
  return addresses[0].address;
}

/** Rejects with a TimeoutError after `ms` (the promise itself keeps running; callers drop what it yields). */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`timeout after ${ms} ms (${what})`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'ECONNABORTED',
  'ESOCKET',
  'ECONNECTION',
  'CONNECTION_REFUSED',
  'CONNECTION_CLOSED',
]);

/** The kind of a send failure from whatever a client library threw. */
function failureKind(err: unknown): SendFailureKind {
  if (err instanceof BlockedError) return 'blocked';
  if (err instanceof TimeoutError) return 'timeout';
  if (err instanceof BrokerError) return err.permanent ? 'rejected' : 'broker';
  const code = String((err as { code?: unknown })?.code ?? '');
  if (CONNECTION_CODES.has(code) || /connect|closed|socket|disconnect/i.test((err as Error)?.message ?? '')) return 'connection';
  return 'broker';
}

/** The attempt's result from a success (the broker's acknowledgment) or a failure; the URL's password never appears in it. */
function resultOf(started: number, outcome: { ack: string } | { err: unknown }, url?: URL): SendResult {
  const durationMs = Math.round(performance.now() - started);
  if ('ack' in outcome) return { statusCode: 200, durationMs, headers: {}, body: outcome.ack.slice(0, 2048), error: null, errorKind: null };
  const err = outcome.err as Error & { code?: unknown };
  const kind = failureKind(err);
  const code = err?.code !== undefined && !(err instanceof BrokerError) ? `${String(err.code)}: ` : '';
  let error = `${kind === 'blocked' ? 'blocked: ' : ''}${code}${err?.message ?? String(err)}`;
  for (const secret of url ? [url.password, decodeURIComponent(url.password)] : [])
    if (secret.length >= 3) error = error.replaceAll(secret, '***');
  return { statusCode: null, durationMs, headers: {}, body: '', error, errorKind: kind };
}

/**
 * One connection per target (a URL without its per-message parameters) in this process: connected on first use,
 * shared by concurrent sends, dropped when it fails or closes so the next send connects again, closed on shutdown.
 */
export class Connections<T> {
  private readonly open = new Map<string, Promise<T>>();

  constructor(private readonly closeOne: (conn: T) => Promise<void>) {}

  get(key: string, connect: () => Promise<T>): Promise<T> {
    let p = this.open.get(key);
    if (!p) {
      p = connect();
      this.open.set(key, p);
      p.catch(() => {
        if (this.open.get(key) === p) this.open.delete(key);
      });
    }
    return p;
  }

  /** Forgets the connection (after an error or close); the next get() connects again. */
  drop(key: string, conn?: T): void {
    const p = this.open.get(key);
    if (!p) return;
    if (conn === undefined) {
      this.open.delete(key);
      return;
    }
    void p.then(
      (c) => {
        if (c === conn && this.open.get(key) === p) this.open.delete(key);
      },
      () => undefined,
    );
  }

  async closeAll(): Promise<void> {
    const all = [...this.open.values()];
    this.open.clear();
    await Promise.all(all.map((p) => p.then((c) => this.closeOne(c)).catch(() => undefined)));
  }
}

/** Common checks of a broker URL: a host, no fragment; `required` query parameters present and non-empty. */
export function baseProblems(url: URL, required: string[], allowEmpty: string[] = []): UrlProblem[] {
  const problems: UrlProblem[] = [];
  if (!url.hostname) problems.push({ field: 'url', message: 'a host is required' });
  if (url.hash) problems.push({ field: 'url', message: 'must not have a #fragment' });
  for (const p of required) {
    const v = url.searchParams.get(p);
    if (v === null || (v === '' && !allowEmpty.includes(p)))
      problems.push({ field: `url.${p}`, message: `the "${p}" query parameter is required` });
  }
  return problems;
}

/** The URL without the given query parameters: the connection's identity. */
function connectionKey(url: URL, perMessage: string[]): string {
  const u = new URL(url.toString());
  for (const p of perMessage) u.searchParams.delete(p);
  return u.toString();
}

const parsed = new Map<string, { url: URL; key: string }>();

/** A destination URL parsed once (not per message) with its connection key. Callers must not mutate `url`. */
function targetOf(url: string, perMessage: string[]): { url: URL; key: string } {
  let t = parsed.get(url);
  if (!t) {
    const u = new URL(url);
    t = { url: u, key: connectionKey(u, perMessage) };
    if (parsed.size >= 10_000) parsed.clear();
    parsed.set(url, t);
  }
  return t;
}

/** How a broker destination reaches its targets: what `sendThrough` needs besides the publish itself. */
export interface Channel<C> {
  /** Query parameters that vary per message (not part of the connection's identity). */
  perMessage: string[];
  /** The query parameter naming where a message goes (subject, topic, …) and the broker's rule for rendered values. */
  address?: { param: string; sanitize: (value: string, placeholder: string) => string };
  connections: Connections<C>;
  connect(key: string, url: URL, timeoutMs: number): Promise<C>;
  /** Maps what a client library threw (e.g. a broker's refusal) before it is classified; `conn` when connected. */
  failure?(err: unknown, conn: C | undefined): unknown;
}

/**
 * One attempt through a broker destination: the target's cached connection (connected within the timeout), the
 * address rendered for the event, then `publish`, which resolves with the broker's acknowledgment; any failure becomes
 * a classified result with the URL's password masked.
 */
export async function sendThrough<C>(
  req: SendRequest,
  channel: Channel<C>,
  publish: (conn: C, address: string, url: URL, key: string) => Promise<string>,
): Promise<SendResult> {
  const started = performance.now();
  let target: URL | undefined;
  let conn: C | undefined;
  try {
    const { url, key } = targetOf(req.url, channel.perMessage);
    target = url;
    const address = channel.address
      ? renderTemplate(url.searchParams.get(channel.address.param) ?? '', req.event, channel.address.sanitize)
      : '';
    conn = await withTimeout(
      channel.connections.get(key, () => channel.connect(key, url, req.timeoutMs)),
      req.timeoutMs,
      'connecting',
    );
    return resultOf(started, { ack: await publish(conn, address, url, key) });
  } catch (err) {
    return resultOf(started, { err: channel.failure ? await channel.failure(err, conn) : err }, target);
  }
}
