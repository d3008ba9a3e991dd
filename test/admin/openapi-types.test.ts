// The console is type-checked against the API's own document: every route it calls documents its response body,
// real responses validate against those schemas (so they cannot drift from the code), and a renamed field, on
// either side, fails `tsc -p admin/tsconfig.json` (so it fails `npm run build`, not the user).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Ajv } from 'ajv';
import { CONSOLE_ROOT } from '../../src/admin/console-files.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../support/launcher.js';
import { Receiver } from '../support/receiver.js';
import { dlqOf, deliveryIn, hookFor, publish, type Hook } from '../webhooks/fixtures.js';

/** Every route the console reads a body from: [method, path in the document, status]. */
const CONSOLE_ROUTES: [string, string, number][] = [
  ['get', '/api/v1/events/history', 200],
  ['get', '/api/v1/events/{id}', 200],
  ['get', '/api/v1/events/{id}/deliveries', 200],
  ['post', '/api/v1/events', 202],
  ['get', '/api/v1/webhooks', 200],
  ['post', '/api/v1/webhooks', 201],
  ['get', '/api/v1/webhooks/{id}', 200],
  ['patch', '/api/v1/webhooks/{id}', 200],
  ['get', '/api/v1/webhooks/{id}/secret', 200],
  ['post', '/api/v1/webhooks/{id}/secret/rotate', 200],
  ['post', '/api/v1/webhooks/{id}/pause', 200],
  ['post', '/api/v1/webhooks/{id}/resume', 200],
  ['get', '/api/v1/webhooks/{id}/backlog', 200],
  ['post', '/api/v1/webhooks/{id}/test', 200],
  ['get', '/api/v1/webhooks/{id}/deliveries', 200],
  ['get', '/api/v1/webhooks/{id}/deliveries/{deliveryId}', 200],
  ['post', '/api/v1/webhooks/{id}/deliveries/{deliveryId}/replay', 202],
  ['get', '/api/v1/dlq', 200],
  ['post', '/api/v1/dlq/retry', 202],
  ['post', '/api/v1/dlq/{id}/retry', 202],
  ['delete', '/api/v1/dlq', 200],
  ['get', '/api/v1/events/metrics', 200],
  ['get', '/api/v1/events/health', 200],
  ['get', '/api/v1/events/health', 503],
  ['get', '/api/v1/event-types', 200],
  ['get', '/api/v1/event-types/{name}', 200],
  ['post', '/api/v1/event-types', 201],
  ['get', '/api/v1/audit-log', 200],
  ['get', '/api/v1/admin/organizations', 200],
  ['post', '/api/v1/admin/organizations', 201],
  ['patch', '/api/v1/admin/organizations/{id}/limits', 200],
  ['post', '/api/v1/admin/organizations/{id}/api-keys', 201],
];

interface OpenApiDoc {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }> }>>;
  components: { schemas: Record<string, unknown> };
}

describe('OpenAPI response schemas', () => {
  let app: TestApp;
  let rx: Receiver;
  let doc: OpenApiDoc;
  let hook: Hook;
  const ajv = new Ajv({ strict: false, allErrors: true });
  const DOC_ID = 'https://humana.invalid/openapi.json';

  /** Validates a real body against the schema the document gives for this route and status. */
  function assertDocumented(method: string, route: string, status: number, body: unknown): void {
    const ref = doc.paths[route]?.[method]?.responses[String(status)]?.content?.['application/json']?.schema?.$ref;
    assert.ok(ref, `${method.toUpperCase()} ${route} ${status}: no response schema`);
    const validate = ajv.getSchema(`${DOC_ID}${ref}`) ?? ajv.compile({ $ref: `${DOC_ID}${ref}` });
    assert.ok(
      validate(body),
      `${method.toUpperCase()} ${route}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 2000)}`,
    );
  }

  before(async () => {
    app = await startTestApp();
    rx = await Receiver.start();
    doc = (await app.http.get('/docs-json').expect(200)).body as OpenApiDoc;
    ajv.addSchema({ $id: DOC_ID, components: doc.components });
    hook = await hookFor(app, rx.url, { events: ['message.*'], retry: { maxAttempts: 1, backoffMultiplier: 1, maxDelay: 1 } });
    rx.on(hook.path, () => ({ status: 422, body: 'refused by the receiver' }));
  });
  after(async () => {
    await app.close();
    await rx.close();
  });

  test('every route the console calls documents its response body as a named component', () => {
    for (const [method, route, status] of CONSOLE_ROUTES) {
      const ref = doc.paths[route]?.[method]?.responses[String(status)]?.content?.['application/json']?.schema?.$ref;
      assert.match(String(ref), /^#\/components\/schemas\/\w+$/, `${method.toUpperCase()} ${route} ${status}`);
      assert.ok(doc.components.schemas[String(ref).split('/').pop()!], String(ref));
    }
  });

  test('real responses validate against their documented schemas', async () => {
    const auth = hook.org.auth;
    const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };
    const get = async (url: string, headers: Record<string, string> = auth) => (await app.http.get(url).set(headers).expect(200)).body;

    const event = await publish(app, hook.org, 'message.sent');
    assertDocumented('post', '/api/v1/events', 202, event);
    assertDocumented('get', '/api/v1/events/{id}', 200, await get(`/api/v1/events/${event.id}`));
    assertDocumented('get', '/api/v1/events/history', 200, await get('/api/v1/events/history?limit=5'));

    // A failed delivery (422 is permanent): its attempts, and the dead letter it left.
    const failed = await deliveryIn(app, hook, 'failed');
    assertDocumented('get', '/api/v1/webhooks/{id}/deliveries/{deliveryId}', 200, failed);
    assert.equal(failed.attemptHistory.length, 1);
    assertDocumented('get', '/api/v1/webhooks/{id}/deliveries', 200, await get(`/api/v1/webhooks/${hook.id}/deliveries`));
    assertDocumented('get', '/api/v1/events/{id}/deliveries', 200, await get(`/api/v1/events/${failed.eventId}/deliveries`));
    await dlqOf(app, hook);
    assertDocumented('get', '/api/v1/dlq', 200, await get('/api/v1/dlq'));

    const test = await app.http.post(`/api/v1/webhooks/${hook.id}/test`).set(auth).expect(200);
    assertDocumented('post', '/api/v1/webhooks/{id}/test', 200, test.body);
    assertDocumented('get', '/api/v1/webhooks/{id}', 200, await get(`/api/v1/webhooks/${hook.id}`));
    assertDocumented('get', '/api/v1/webhooks', 200, await get('/api/v1/webhooks'));
    const paused = await app.http.post(`/api/v1/webhooks/${hook.id}/pause`).set(auth).expect(200);
    assertDocumented('post', '/api/v1/webhooks/{id}/pause', 200, paused.body);
    assertDocumented('get', '/api/v1/webhooks/{id}/backlog', 200, await get(`/api/v1/webhooks/${hook.id}/backlog`));
    const rotated = await app.http.post(`/api/v1/webhooks/${hook.id}/secret/rotate`).set(auth).send({}).expect(200);
    assertDocumented('post', '/api/v1/webhooks/{id}/secret/rotate', 200, rotated.body);
    assertDocumented('get', '/api/v1/webhooks/{id}/secret', 200, await get(`/api/v1/webhooks/${hook.id}/secret`));

    assertDocumented('get', '/api/v1/events/metrics', 200, await get('/api/v1/events/metrics?window=1h'));
    assertDocumented('get', '/api/v1/events/health', 200, await get('/api/v1/events/health', {}));
    assertDocumented('get', '/api/v1/event-types', 200, await get('/api/v1/event-types'));
    assertDocumented('get', '/api/v1/event-types/{name}', 200, await get('/api/v1/event-types/message.sent'));
    assertDocumented('get', '/api/v1/audit-log', 200, await get('/api/v1/audit-log'));
    assertDocumented('get', '/api/v1/admin/organizations', 200, await get('/api/v1/admin/organizations', admin));
    const purged = await app.http
      .delete(`/api/v1/dlq?olderThan=${new Date(Date.now() + 60_000).toISOString()}`)
      .set(auth)
      .expect(200);
    assertDocumented('delete', '/api/v1/dlq', 200, purged.body);
  });

  test('a body that drifts from its schema is refused (the check is not vacuous)', async () => {
    const detail = await latestDelivery(app, hook);
    const { attemptHistory, ...rest } = detail;
    assert.throws(() =>
      assertDocumented('get', '/api/v1/webhooks/{id}/deliveries/{deliveryId}', 200, { ...rest, attempts: attemptHistory }),
    );
  });
});

async function latestDelivery(app: TestApp, hook: Hook): Promise<Record<string, unknown>> {
  const list = await app.http.get(`/api/v1/webhooks/${hook.id}/deliveries`).set(hook.org.auth).expect(200);
  const id = (list.body.deliveries as { id: string }[])[0].id;
  return (await app.http.get(`/api/v1/webhooks/${hook.id}/deliveries/${id}`).set(hook.org.auth).expect(200)).body;
}

const run = promisify(execFile);
const TSC = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../node_modules/typescript/bin/tsc');

/** Makes a fresh directory from `prefix`, lets `prepare` fill it, then runs `tsc -p` on its tsconfig.json; removes it. */
async function typeCheckIn(prefix: string, prepare: (dir: string) => void): Promise<{ ok: boolean; output: string }> {
  const dir = mkdtempSync(prefix);
  try {
    prepare(dir);
    await run(process.execPath, [TSC, '-p', path.join(dir, 'tsconfig.json')]);
    return { ok: true, output: '' };
  } catch (err) {
    const e = err as { stdout?: string; message: string };
    return { ok: false, output: e.stdout ?? e.message };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Copies the console (sources, generated types, tsconfig) and type-checks the copy after `edit`. */
function typeCheckCopy(edit: (dir: string) => void): Promise<{ ok: boolean; output: string }> {
  return typeCheckIn(path.join(tmpdir(), 'console-types-'), (dir) => {
    cpSync(CONSOLE_ROOT, dir, { recursive: true });
    edit(dir);
  });
}

function rewrite(file: string, from: string, to: string): void {
  const text = readFileSync(file, 'utf8');
  assert.ok(text.includes(from), `${file} no longer contains ${from}`);
  writeFileSync(file, text.replaceAll(from, to));
}

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');

/** Type-checks a module that registers a response schema for `View` (strict, against the real src/common/api-schemas.ts). */
function typeCheckSchema(view: string, schema: string): Promise<{ ok: boolean; output: string }> {
  // Under dist/ so that `zod` resolves from the repository's node_modules.
  return typeCheckIn(path.join(ROOT, 'dist', 'schema-check-'), (dir) => {
    writeFileSync(
      path.join(dir, 'fixture.ts'),
      [
        "import { z } from 'zod';",
        "import { responseSchema } from '../../src/common/api-schemas.js';",
        `interface View ${view}`,
        `export const viewSchema = responseSchema<View>()('View', ${schema});`,
      ].join('\n'),
    );
    const compilerOptions = {
      strict: true,
      noEmit: true,
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      target: 'ES2022',
      skipLibCheck: true,
      types: [],
    };
    writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['fixture.ts'] }));
  });
}

describe('response schemas are checked against the types the routes return', () => {
  test('a schema with the same fields as the type compiles', async () => {
    const result = await typeCheckSchema(
      '{ id: string; attemptHistory: number[] }',
      'z.object({ id: z.string(), attemptHistory: z.array(z.number()) })',
    );
    assert.ok(result.ok, result.output);
  });

  test('a field renamed in the type but not in the schema does not compile', async () => {
    const result = await typeCheckSchema(
      '{ id: string; attemptLog: number[] }',
      'z.object({ id: z.string(), attemptHistory: z.array(z.number()) })',
    );
    assert.equal(result.ok, false);
    assert.match(result.output, /fixture\.ts.*Expected 3 arguments, but got 2/);
  });
});

describe('the console type check', () => {
  test('the console as committed type-checks', async () => {
    const result = await typeCheckCopy(() => undefined);
    assert.ok(result.ok, result.output);
  });

  test('a view reading a field the API does not have fails the check', async () => {
    const result = await typeCheckCopy((dir) => rewrite(path.join(dir, 'js/views/delivery.js'), 'd.attemptHistory', 'd.attempts_history'));
    assert.equal(result.ok, false);
    assert.match(result.output, /views\/delivery\.js.*Property 'attempts_history' does not exist/);
  });

  test('a field renamed in the API (the generated types) fails the views that read it', async () => {
    const result = await typeCheckCopy((dir) => rewrite(path.join(dir, 'js/generated/api-types.d.ts'), 'attemptHistory:', 'attemptLog:'));
    assert.equal(result.ok, false);
    assert.match(result.output, /views\/delivery\.js.*Property 'attemptHistory' does not exist/);
  });
});
