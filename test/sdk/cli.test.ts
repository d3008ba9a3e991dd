import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EVENT_TYPES, HumanaEvents, sampleData, verifyWebhook } from '../../sdk/src/index.js';
import {
  createOrg,
  Receiver,
  REPO_ROOT,
  startPrivateRedis,
  startTestApp,
  waitFor,
  type PrivateRedis,
  type TestApp,
  type TestOrg,
} from './server.js';

const CLI = path.join(REPO_ROOT, 'sdk/dist/cli.js');

function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c));
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('humana-events CLI', () => {
  let redis: PrivateRedis;
  let app: TestApp;
  let org: TestOrg;
  let env: Record<string, string>;
  let receiver: Receiver;
  const retired: TestApp[] = []; // stopped before a restart; close() later removes their database

  before(async () => {
    redis = await startPrivateRedis();
    app = await startTestApp({ redis });
    org = await createOrg(app);
    env = { HUMANA_URL: app.url, HUMANA_API_KEY: org.key };
    receiver = await Receiver.start();
  });
  after(async () => {
    await receiver?.close();
    await app?.close();
    for (const a of retired) await a.close();
    await redis?.destroy();
  });

  it('trigger publishes a valid sample of every built-in type (202)', async () => {
    const results = await Promise.all(EVENT_TYPES.map((t) => run(['trigger', t], env)));
    results.forEach((r, i) => {
      assert.equal(r.code, 0, `${EVENT_TYPES[i]}: ${r.stderr}`);
      assert.equal(JSON.parse(r.stdout).type, EVENT_TYPES[i]);
    });
    const merged = await run(['trigger', 'message.sent', '--data', '{"content":"from the cli"}'], env);
    assert.equal(JSON.parse(merged.stdout).data.content, 'from the cli');
  });

  it('exit codes: usage 2, API error 1, network 3', async () => {
    assert.equal((await run([], env)).code, 2);
    assert.equal((await run(['frobnicate'], env)).code, 2);
    assert.equal((await run(['trigger', 'message.sent', '--bogus'], env)).code, 2);
    assert.equal((await run(['trigger', 'message.sent'], { HUMANA_URL: app.url })).code, 2, 'no API key');
    assert.equal((await run(['trigger', 'message.sent', '--data', '[1]'], env)).code, 2);
    const api = await run(['trigger', 'message.sent', '--data', '{"type":"video"}'], env);
    assert.equal(api.code, 1);
    assert.match(api.stderr, /400/);
    assert.equal((await run(['trigger', 'message.sent'], { ...env, HUMANA_API_KEY: 'hk_wrong' })).code, 1);
    assert.equal((await run(['trigger', 'message.sent'], { ...env, HUMANA_URL: 'http://127.0.0.1:9' })).code, 3);
    assert.equal((await run(['--help'], env)).code, 0);
  });

  it('webhooks list | create | test and dlq list | retry', async () => {
    receiver.on('/cli', () => ({ status: 200 }));
    const created = await run(['webhooks', 'create', '--url', `${receiver.url}/cli`, '--events', 'chat.*'], env);
    assert.equal(created.code, 0, created.stderr);
    const hook = JSON.parse(created.stdout) as { id: string; secret: string };
    assert.match(hook.secret, /^whsec_/);
    const listed = await run(['webhooks', 'list'], env);
    assert.ok(listed.stdout.split('\n').some((l) => l.includes(hook.id)));
    const tested = await run(['webhooks', 'test', hook.id], env);
    assert.equal(tested.code, 0, tested.stderr);
    assert.equal(JSON.parse(tested.stdout).success, true);
    assert.equal((await run(['webhooks', 'test', 'wh_nope'], env)).code, 1);

    receiver.on('/dead', () => ({ status: 410 }));
    const sdk = new HumanaEvents({ baseUrl: app.url, apiKey: org.key });
    const dead = await sdk.webhooks.create({ url: `${receiver.url}/dead`, events: ['usage.recorded'] });
    await sdk.events.publish({ type: 'usage.recorded', data: sampleData['usage.recorded'] });
    const entry = await waitFor(async () => (await sdk.dlq.list({ webhookId: dead.id }).toArray())[0], 15_000);
    const dl = await run(['dlq', 'list'], env);
    assert.ok(dl.stdout.includes(entry.id));
    const one = await run(['dlq', 'retry', entry.id], env);
    assert.equal(one.code, 0, one.stderr);
    assert.match(JSON.parse(one.stdout).deliveryId, /^del_/);
    const all = await run(['dlq', 'retry', '--all'], env);
    assert.equal(all.code, 0, all.stderr);
    assert.equal((await run(['dlq', 'retry'], env)).code, 2);
  });

  it('listen forwards signed events to a local URL and survives a server restart', async () => {
    const verified: string[] = [];
    let secret = '';
    receiver.on('/local', (req) => {
      try {
        const body = verifyWebhook(req.body, req.headers, secret) as { id: string; type: string; data: unknown };
        assert.equal(req.headers['x-humana-event'], body.type);
        assert.match(String(req.headers['x-humana-delivery']), /^del_/);
        verified.push(body.id);
        return { status: 200 };
      } catch {
        return { status: 401 };
      }
    });
    let listen: ChildProcess | undefined;
    let stdout = '';
    let stderr = '';
    try {
      listen = spawn(process.execPath, [CLI, 'listen', '--forward-to', `${receiver.url}/local`, '--events', 'message.*'], {
        env: { PATH: process.env.PATH ?? '', ...env },
      });
      listen.stdout!.on('data', (c: Buffer) => (stdout += c));
      listen.stderr!.on('data', (c: Buffer) => (stderr += c));
      secret = (await waitFor(() => /Signing secret: (whsec_\S+)/.exec(stdout)?.[1], 10_000))!;
      await waitFor(() => stderr.includes('connected'), 10_000);
      const sdk = new HumanaEvents({ baseUrl: app.url, apiKey: org.key });
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await sdk.events.publish({ type: 'message.sent', data: sampleData['message.sent'] })).id);
      await waitFor(() => verified.length >= 3, 10_000);

      const port = new URL(app.url).port;
      await app.stop();
      retired.push(app);
      app = await startTestApp({ redis, databaseUrl: app.databaseUrl, env: { PORT: port } });
      const sdk2 = new HumanaEvents({ baseUrl: app.url, apiKey: org.key });
      for (let i = 0; i < 3; i++)
        ids.push((await sdk2.events.publish({ type: 'message.received', data: sampleData['message.received'] })).id);
      await waitFor(() => verified.length >= 6, 30_000);
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(verified, ids, 'every event once, in order, each signature verified');
      assert.match(stderr, /reconnected/);
      const lines = stdout.split('\n').filter((l) => l.includes(' → '));
      assert.equal(lines.length, 6);
      assert.ok(
        lines.every((l) => / → 200 \(\d+ ms\)/.test(l)),
        lines.join('\n'),
      );
    } finally {
      listen?.kill('SIGINT');
    }
  });
});
