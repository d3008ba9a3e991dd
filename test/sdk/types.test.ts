import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { HumanaEvents, sample, typesModule, type JsonSchema } from '../../sdk/src/index.js';
import { createOrg, REPO_ROOT, startTestApp, type TestApp, type TestOrg } from './server.js';

const CLI = path.join(REPO_ROOT, 'sdk/dist/cli.js');
const TSC = path.join(REPO_ROOT, 'node_modules/typescript/bin/tsc');

function run(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c));
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** tsc over the files as a user's project would compile them (strict, NodeNext, the `humana-events` package). */
async function compile(dir: string, files: string[]): Promise<{ ok: boolean; output: string }> {
  const args = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022'];
  args.push('--skipLibCheck', '--types', 'node', ...files.map((f) => path.join(dir, f)));
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [TSC, ...args], { cwd: REPO_ROOT });
    return { ok: true, output: stdout };
  } catch (e) {
    return { ok: false, output: String((e as { stdout?: string }).stdout ?? e) };
  }
}

const orderSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  description: 'An order was placed.',
  required: ['orderId', 'items', 'customer'],
  additionalProperties: false,
  properties: {
    orderId: { type: 'string', description: 'Your order id' },
    status: { enum: ['new', 'paid'] },
    items: { type: 'array', minItems: 1, items: { $ref: '#/$defs/line' } },
    customer: {
      type: 'object',
      required: ['email'],
      properties: {
        email: { type: 'string', format: 'email' },
        address: { anyOf: [{ type: 'null' }, { type: 'object', required: ['city'], properties: { city: { type: 'string' } } }] },
      },
    },
  },
  $defs: {
    line: {
      type: 'object',
      required: ['sku', 'quantity'],
      properties: { sku: { type: 'string' }, quantity: { type: 'integer', minimum: 1 } },
    },
  },
};
const example = { orderId: 'ord-1', items: [{ sku: 's-1', quantity: 2 }], customer: { email: 'a@example.com' } };

describe('humana-events types', () => {
  let app: TestApp;
  let org: TestOrg;
  let env: Record<string, string>;
  let dir: string;

  before(async () => {
    app = await startTestApp();
    org = await createOrg(app);
    env = { HUMANA_URL: app.url, HUMANA_API_KEY: org.key };
    // Inside the repository, so `import … from 'humana-events'` resolves to the workspace package, as in a user's project.
    dir = mkdtempSync(path.join(REPO_ROOT, 'dist', 'types-test-'));
    const sdk = new HumanaEvents({ baseUrl: app.url, apiKey: org.key });
    await sdk.eventTypes.create({ name: 'order.created', description: 'An order was placed.', schema: orderSchema, examples: [example] });
  });
  after(async () => {
    await app?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('writes types that make publish check custom data at compile time', async () => {
    const res = await run(['types', '--out', path.join(dir, 'events.ts')], env);
    assert.equal(res.code, 0, res.stderr);
    const generated = readFileSync(path.join(dir, 'events.ts'), 'utf8');
    assert.match(generated, /export interface OrderCreatedData \{/);
    assert.match(generated, /export type OrderCreatedDataLine = \{/);
    assert.match(generated, /items: Array<OrderCreatedDataLine>;/);
    assert.match(generated, /\/\*\* Your order id \*\//);
    assert.match(generated, /"order\.created": OrderCreatedData;/);
    assert.doesNotMatch(generated, /MessageSentData/, 'built-ins only with --builtins');

    const header = [
      "import { HumanaEvents } from 'humana-events';",
      "import type { CustomEventDataMap } from './events.js';",
      'const sdk = new HumanaEvents<CustomEventDataMap>({ baseUrl: "http://x", apiKey: "k" });',
    ];
    writeFileSync(
      path.join(dir, 'good.ts'),
      [
        ...header,
        `const env = await sdk.events.publish({ type: 'order.created', data: ${JSON.stringify(example)} });`,
        'const sku: string = env.data.items[0].sku;',
        'const city: string | undefined = env.data.customer.address?.city;',
        "await sdk.events.publish({ type: 'message.sent', data: { messageId: 'm', companionId: 'c', userId: 'u', content: 'hi', type: 'text', metadata: {} } });",
        "for await (const e of sdk.events.stream()) if (e.type === 'order.created') console.log(e.data.orderId, sku, city);",
        'export {};',
      ].join('\n'),
    );
    const good = await compile(dir, ['events.ts', 'good.ts']);
    assert.ok(good.ok, good.output);

    writeFileSync(
      path.join(dir, 'bad.ts'),
      [
        ...header,
        "await sdk.events.publish({ type: 'order.created', data: { orderId: 'o', items: [{ sku: 's', quantity: '2' }], customer: { email: 'e' } } });",
        'export {};',
      ].join('\n'),
    );
    const bad = await compile(dir, ['events.ts', 'bad.ts']);
    assert.equal(bad.ok, false, 'a string quantity must not compile');
    assert.match(bad.output, /bad\.ts\(4,\d+\): error TS2322: Type 'string' is not assignable to type 'number'/);
    assert.doesNotMatch(bad.output, /events\.ts|good\.ts/, 'only the wrong field fails');

    writeFileSync(
      path.join(dir, 'missing.ts'),
      [...header, "await sdk.events.publish({ type: 'order.created', data: { orderId: 'o', items: [] } });", 'export {};'].join('\n'),
    );
    const missing = await compile(dir, ['events.ts', 'missing.ts']);
    assert.equal(missing.ok, false);
    assert.match(missing.output, /missing\.ts\(4,\d+\).*customer/);
  });

  it('writes to stdout, adds built-ins with --builtins, and fails like the other commands', async () => {
    const stdout = await run(['types', '--builtins'], env);
    assert.equal(stdout.code, 0, stdout.stderr);
    assert.match(stdout.stdout, /export interface MessageSentData \{/);
    assert.match(stdout.stdout, /"order\.created": OrderCreatedData;/);
    const other = await createOrg(app);
    const none = await run(['types'], { ...env, HUMANA_API_KEY: other.key });
    assert.equal(none.code, 0, none.stderr);
    assert.match(none.stdout, /export interface CustomEventDataMap \{\n\}/, "another organization's types are not there");
    assert.equal((await run(['types'], { ...env, HUMANA_API_KEY: 'hk_wrong' })).code, 1);
    assert.equal((await run(['types'], { ...env, HUMANA_URL: 'http://127.0.0.1:9' })).code, 3);
  });

  it('event-types create --file and list; trigger publishes a custom type from its example', async () => {
    const file = path.join(dir, 'refund.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'refund.issued',
        schema: {
          type: 'object',
          required: ['refundId', 'amount'],
          properties: { refundId: { type: 'string' }, amount: { type: 'number' } },
        },
      }),
    );
    const created = await run(['event-types', 'create', '--file', file], env);
    assert.equal(created.code, 0, created.stderr);
    assert.equal(JSON.parse(created.stdout).type, 'refund.issued');
    assert.equal((await run(['event-types', 'create', '--file', file], env)).code, 1, 'already exists: 409');
    assert.equal((await run(['event-types', 'create'], env)).code, 2);
    const listed = await run(['event-types', 'list'], env);
    const names = listed.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { type: string }).type);
    assert.ok(names.includes('refund.issued') && names.includes('order.created') && names.includes('message.sent'));

    const fromExample = await run(['trigger', 'order.created'], env);
    assert.equal(fromExample.code, 0, fromExample.stderr);
    assert.deepEqual(JSON.parse(fromExample.stdout).data, example);
    const fromSchema = await run(['trigger', 'refund.issued', '--data', '{"amount":5}'], env);
    assert.equal(fromSchema.code, 0, fromSchema.stderr);
    assert.deepEqual(JSON.parse(fromSchema.stdout).data, { refundId: 'refundId-1', amount: 5 });
    assert.equal((await run(['trigger', 'no.such'], env)).code, 2);

    const sdk = new HumanaEvents({ baseUrl: app.url, apiKey: org.key });
    await sdk.eventTypes.create({ name: 'order.copied', schema: orderSchema }); // no example: sampled, $defs included
    const sampled = await run(['trigger', 'order.copied'], env);
    assert.equal(sampled.code, 0, sampled.stderr);
    assert.deepEqual(JSON.parse(sampled.stdout).data, {
      orderId: 'orderId-1',
      items: [{ sku: 'sku-1', quantity: 1 }],
      customer: { email: 'user@example.com' },
    });
  });
});

describe('schema-types emitter', () => {
  it('never throws, whatever the schema', () => {
    const pool: unknown[] = [
      true,
      false,
      null,
      1,
      'x',
      [],
      {},
      { type: 'wat' },
      { type: ['string', 'bogus'] },
      { $ref: '#/$defs/missing' },
      { $ref: 5 },
      { enum: [] },
      { enum: [1, 'a', null, { a: 1 }] },
      { oneOf: [] },
      { allOf: [{ type: 'string' }, true] },
      { not: {} },
      { if: {}, then: {} },
      { type: 'array' },
      { type: 'array', items: false },
      { type: 'object', properties: null, required: 'a' },
      { type: 'object', properties: { 'a*/b': { description: '*/ end', type: 'string' } } },
      { type: 'object', additionalProperties: { type: 'integer' } },
      { $defs: { 'a/b': { type: 'string' }, '': {} }, $ref: '#/$defs/a~1b' },
    ];
    const pick = () => pool[Math.floor(Math.random() * pool.length)];
    const nest = (d: number): unknown => {
      if (d === 0) return pick();
      const s = pick();
      return s && typeof s === 'object' && !Array.isArray(s)
        ? { ...s, properties: { p: nest(d - 1) }, items: nest(d - 1), anyOf: Math.random() < 0.3 ? [nest(d - 1)] : undefined }
        : s;
    };
    for (let i = 0; i < 500; i++) {
      const schema = nest(3) as JsonSchema;
      const text = typesModule([{ type: `t.x${i}`, schema, description: 'd */' }], ['h']);
      assert.match(text, /export interface CustomEventDataMap/);
      sample(schema);
    }
  });

  it('marks what it cannot express as unknown with a comment', () => {
    const text = typesModule(
      [
        {
          type: 'a.b',
          schema: { type: 'object', properties: { n: { not: { type: 'string' } }, r: { $ref: 'https://x/y' }, t: { type: 'wat' } } },
        },
      ],
      [],
    );
    assert.match(text, /n\?: unknown \/\* unsupported: not \*\/;/);
    assert.match(text, /r\?: unknown \/\* unsupported \$ref: https:\/\/x\/y \*\/;/);
    assert.match(text, /t\?: unknown \/\* unsupported type: "wat" \*\/;/);
  });
});
