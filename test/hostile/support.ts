import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { exampleEvents } from '../../src/events/catalog.js';
import { createOrg, startTestApp, type TestApp, type TestOrg } from './server.js';

/** Runs per property and the time one input may take before the property fails (a stall is a defect). */
export const RUNS = 150;
export const PER_INPUT_MS = 5_000;

export interface HostileTarget {
  app: TestApp;
  org: TestOrg;
  close(): Promise<void>;
}

export async function startTarget(): Promise<HostileTarget> {
  const app = await startTestApp({ env: { HEARTBEAT_INTERVAL_MS: '60000' } });
  return { app, org: await createOrg(app, 'hostile'), close: () => app.close() };
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

/** One HTTP call bounded by PER_INPUT_MS; `body` is sent as is (a string is a raw body, anything else JSON). */
export async function call(
  t: HostileTarget,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const res = await fetch(`${t.app.url}${path}`, {
    method,
    headers: { Authorization: t.org.auth.Authorization, 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(PER_INPUT_MS),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** The only acceptable answers: a 2xx, or a 4xx with the contract's `{"error":{code,message,details}}`. */
export function assertClearAnswer(a: Answer, what: string): void {
  assert.ok(a.status < 500, `${what} → ${a.status} ${a.text.slice(0, 300)}`);
  if (a.status < 300) return;
  assert.ok(a.status >= 400, `${what} → ${a.status}`);
  const err = (a.json as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)?.error;
  assert.ok(
    err && typeof err.code === 'string' && typeof err.message === 'string',
    `${what} → ${a.status} without a JSON error: ${a.text.slice(0, 300)}`,
  );
  assert.ok(err.details === undefined || Array.isArray(err.details), `${what}: details is a list`);
}

/** After a property: health answers 200 and an ordinary publish is accepted. */
export async function assertHealthy(t: HostileTarget): Promise<void> {
  const health = await fetch(`${t.app.url}/api/v1/events/health`, { signal: AbortSignal.timeout(PER_INPUT_MS) });
  assert.equal(health.status, 200, await health.text());
  const ok = await call(t, 'POST', '/api/v1/events', { type: 'message.sent', data: exampleEvents['message.sent'] });
  assert.equal(ok.status, 202, ok.text);
}

export const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'] as const;

/** A JSON object as ordered entries, so keys like `__proto__` survive until the text is written. */
export class Obj {
  constructor(readonly entries: [string, unknown][]) {}
}

/** JSON text inserted verbatim (deep nesting, malformed fragments); reported by its length, not its text. */
export class Raw {
  constructor(readonly text: string) {}
  [fc.toStringMethod](): string {
    return `Raw(${this.text.length} chars: ${this.text.slice(0, 40)}…)`;
  }
}

/** A long string value, written as a JSON string and reported by its length. */
export class Huge {
  constructor(readonly value: string) {}
  [fc.toStringMethod](): string {
    return `Huge(${this.value.length} × ${JSON.stringify(this.value.slice(0, 8))}…)`;
  }
}

/** JSON text for values built from Obj, Raw, arrays and scalars (duplicate and prototype keys included verbatim). */
export function jsonText(v: unknown): string {
  if (v instanceof Raw) return v.text;
  if (v instanceof Huge) return JSON.stringify(v.value);
  if (v instanceof Obj) return `{${v.entries.map(([k, x]) => `${JSON.stringify(k)}:${jsonText(x)}`).join(',')}}`;
  if (Array.isArray(v)) return `[${v.map(jsonText).join(',')}]`;
  return JSON.stringify(v) ?? 'null';
}

const key = fc.oneof(fc.string({ maxLength: 16 }), fc.constantFrom(...PROTO_KEYS, 'type', 'data', 'id', 'events', 'companionId', 'a.b'));
const scalar = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
);

/** Arbitrary JSON values (objects may carry prototype keys), a few levels deep. */
export const hostileValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown; array: unknown[]; object: Obj }>((tie) => ({
  value: fc.oneof({ depthSize: 'small', maxDepth: 4 }, scalar, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc.array(fc.tuple(key, tie('value')), { maxLength: 5 }).map((e) => new Obj(e)),
})).value;

/** A long string: 1 to 300 KB of one character or of random characters repeated. */
export const hugeString = fc
  .tuple(fc.integer({ min: 1_000, max: 300_000 }), fc.string({ minLength: 1, maxLength: 8 }))
  .map(([n, s]) => new Huge(s.repeat(Math.ceil(n / s.length)).slice(0, n)));

/** `[[[…]]]` or `{"a":{"a":…}}` up to 20,000 levels. */
export const deepNesting = fc
  .tuple(fc.integer({ min: 10, max: 20_000 }), fc.boolean())
  .map(([depth, arrays]) => new Raw(arrays ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`));

/** A loopback HTTP server answering 204 to everything and counting requests per path (a webhook target). */
export async function startSink(): Promise<{ url: string; hits: Map<string, number>; close(): Promise<void> }> {
  const hits = new Map<string, number>();
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0];
      hits.set(path, (hits.get(path) ?? 0) + 1);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, hits, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Polls `fn` until it is truthy or `ms` pass. */
export async function eventually(fn: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
