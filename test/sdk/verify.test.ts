import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import {
  expressMiddleware,
  HumanaEvents,
  HumanaWebhookGuard,
  sampleData,
  signatureHeaders,
  verifyWebhook,
  WebhookVerificationError,
  type WebhookVerificationReason,
} from '../../sdk/src/index.js';
import {
  connectionKiller,
  createOrg,
  Receiver,
  REPO_ROOT,
  startTestApp,
  waitFor,
  type Received,
  type TestApp,
  type TestOrg,
} from './server.js';

const reason = (r: WebhookVerificationReason) => (e: unknown) => e instanceof WebhookVerificationError && e.reason === r;

describe('verifyWebhook against real deliveries', () => {
  let app: TestApp;
  let org: TestOrg;
  let sdk: HumanaEvents;
  let receiver: Receiver;
  let secret: string;
  let delivery: Received;
  let hookId: string;

  before(async () => {
    app = await startTestApp();
    org = await createOrg(app);
    sdk = new HumanaEvents({ baseUrl: app.url, apiKey: org.key });
    receiver = await Receiver.start();
    const hook = await sdk.webhooks.create({ url: `${receiver.url}/hook`, events: ['message.sent'] });
    secret = hook.secret;
    hookId = hook.id;
    const ev = await sdk.events.publish({ type: 'message.sent', data: sampleData['message.sent'] });
    delivery = (await waitFor(() => receiver.at('/hook').find((r) => r.headers['webhook-id'] === ev.id), 10_000))!;
  });
  after(async () => {
    await receiver?.close();
    await app?.close();
  });

  it('accepts a delivery made by the worker (both schemes, and each alone)', () => {
    const payload = verifyWebhook(delivery.body, delivery.headers, secret) as { type: string };
    assert.equal(payload.type, 'message.sent');
    const { 'x-humana-signature': _h, ...standardOnly } = delivery.headers;
    assert.ok(verifyWebhook(delivery.body, standardOnly, secret));
    const { 'webhook-signature': _s, ...humanaOnly } = delivery.headers;
    assert.ok(verifyWebhook(Buffer.from(delivery.body), humanaOnly, secret));
    assert.ok(verifyWebhook(delivery.body, new Headers(delivery.headers as Record<string, string>), [secret]));
  });

  it('agrees with the standardwebhooks package', () => {
    const wh = new StandardWebhook(secret);
    assert.deepEqual(wh.verify(delivery.body, delivery.headers as Record<string, string>), JSON.parse(delivery.body));
    const headers = signatureHeaders({ secret, id: 'msg_1', body: '{"a":1}' });
    assert.deepEqual(wh.verify('{"a":1}', headers), { a: 1 });
  });

  it('rejects a tampered body, a wrong secret, a stale timestamp', () => {
    const tampered = delivery.body.replace('Hello', 'Hellp');
    assert.throws(() => verifyWebhook(tampered, delivery.headers, secret), reason('bad_signature'));
    assert.throws(
      () => verifyWebhook(delivery.body, delivery.headers, `whsec_${randomBytes(24).toString('base64')}`),
      reason('bad_signature'),
    );
    assert.throws(() => verifyWebhook(delivery.body, delivery.headers, secret, { now: Date.now() + 301_000 }), reason('stale_timestamp'));
    assert.ok(verifyWebhook(delivery.body, delivery.headers, secret, { now: Date.now() + 3_000_000, toleranceSeconds: 4000 }));
  });

  it('accepts either secret during a rotation (space-separated signatures)', async () => {
    const rotated = await sdk.webhooks.rotateSecret(hookId);
    const ev = await sdk.events.publish({ type: 'message.sent', data: sampleData['message.sent'] });
    const d = (await waitFor(() => receiver.at('/hook').find((r) => r.headers['webhook-id'] === ev.id), 10_000))!;
    assert.ok(String(d.headers['webhook-signature']).includes(' '), 'two signatures');
    const { 'x-humana-signature': _h, ...standardOnly } = d.headers;
    assert.ok(verifyWebhook(d.body, standardOnly, secret), 'old secret still verifies');
    assert.ok(verifyWebhook(d.body, d.headers, rotated.secret), 'new secret verifies');
    assert.ok(verifyWebhook(d.body, d.headers, [secret, rotated.secret]));
  });

  it('reports missing and malformed headers, never a RangeError, on garbage input', () => {
    const h = delivery.headers;
    assert.throws(() => verifyWebhook(delivery.body, {}, secret), reason('missing_header'));
    assert.throws(
      () =>
        verifyWebhook(
          delivery.body,
          { 'webhook-signature': String(h['webhook-signature']), 'webhook-timestamp': String(h['webhook-timestamp']) },
          secret,
        ),
      reason('missing_header'),
    );
    assert.throws(
      () => verifyWebhook(delivery.body, { 'x-humana-signature': String(h['x-humana-signature']) }, secret),
      reason('missing_header'),
    );
    assert.throws(
      () => verifyWebhook(delivery.body, { ...h, 'webhook-timestamp': 'yesterday', 'x-humana-signature': undefined }, secret),
      reason('malformed_header'),
    );
    assert.throws(
      () => verifyWebhook(delivery.body, { ...h, 'webhook-signature': 'v2,abc', 'x-humana-signature': undefined }, secret),
      reason('malformed_header'),
    );
    assert.throws(
      () => verifyWebhook(delivery.body, { 'x-humana-signature': 'abcd', 'x-humana-timestamp': String(h['x-humana-timestamp']) }, secret),
      reason('malformed_header'),
    );
    assert.throws(
      () => verifyWebhook(delivery.body, { ...h, 'webhook-signature': 'v1,AAAA', 'x-humana-signature': undefined }, secret),
      reason('bad_signature'),
    );
    // Random headers: only WebhookVerificationError, whatever the input.
    const junk = () => {
      const pool = [
        '',
        ' ',
        ',',
        'v1,',
        'v1,===',
        'zz',
        'ff'.repeat(32),
        'ff'.repeat(31),
        '1'.repeat(20),
        '-1',
        'v1,' + 'A'.repeat(43) + '=',
        '\u0000',
        'é',
      ];
      return pool[Math.floor(Math.random() * pool.length)] + (Math.random() < 0.3 ? randomBytes(8).toString('base64') : '');
    };
    const names = ['webhook-id', 'webhook-timestamp', 'webhook-signature', 'x-humana-signature', 'x-humana-timestamp'];
    for (let i = 0; i < 2000; i++) {
      const headers: Record<string, string> = {};
      for (const n of names) if (Math.random() < 0.7) headers[n] = Math.random() < 0.5 ? String(h[n]) : junk();
      try {
        verifyWebhook(delivery.body, headers, secret);
      } catch (err) {
        assert.ok(
          err instanceof WebhookVerificationError,
          `${(err as Error).name}: ${(err as Error).message} for ${JSON.stringify(headers)}`,
        );
      }
    }
  });

  it('expressMiddleware and the NestJS guard verify the raw body', () => {
    const mw = expressMiddleware(secret);
    const req: { headers: Record<string, string | string[] | undefined>; body: Buffer; webhook?: unknown } = {
      headers: delivery.headers,
      body: Buffer.from(delivery.body),
    };
    let nextArg: unknown = 'not called';
    mw(req, { status: () => assert.fail('no status'), json: () => undefined } as never, (e?: unknown) => (nextArg = e));
    assert.equal(nextArg, undefined);
    assert.equal((req.webhook as { type: string }).type, 'message.sent');
    let status = 0;
    const res = { status: (s: number) => ((status = s), res), json: () => undefined };
    mw({ headers: delivery.headers, body: Buffer.from(delivery.body + ' ') }, res as never, () => assert.fail('next on a bad signature'));
    assert.equal(status, 401);
    mw({ headers: delivery.headers, body: { parsed: true } }, res as never, (e?: unknown) => (nextArg = e));
    assert.match(String((nextArg as unknown as Error).message), /raw request body/);

    const guard = new HumanaWebhookGuard(secret);
    const ctx = (rawBody: string) => ({ switchToHttp: () => ({ getRequest: <R>() => ({ headers: delivery.headers, rawBody }) as R }) });
    assert.equal(guard.canActivate(ctx(delivery.body)), true);
    assert.equal(guard.canActivate(ctx(delivery.body + 'x')), false);
    const throwing = new HumanaWebhookGuard(secret, { exception: (e) => new Error(`401 ${e.reason}`) });
    assert.throws(() => throwing.canActivate(ctx('{}')), /401 bad_signature/);
  });

  it('the Python module verifies both schemes and streams with resume (python3)', async () => {
    const killer = connectionKiller(app);
    const script = `
import json, sys
sys.path.insert(0, ${JSON.stringify(path.join(REPO_ROOT, 'sdk/python'))})
import humana_events as he
cfg = json.loads(sys.stdin.readline())
d = cfg["delivery"]
assert he.verify_webhook(d["body"].encode(), d["headers"], cfg["secret"])["type"] == "message.sent"
std = {k: v for k, v in d["headers"].items() if k != "x-humana-signature"}
hum = {k: v for k, v in d["headers"].items() if k != "webhook-signature"}
he.verify_webhook(d["body"].encode(), std, cfg["secret"])
he.verify_webhook(d["body"].encode(), hum, [cfg["secret"]])
for headers, body, reason, kw in [
    (d["headers"], d["body"] + " ", "bad_signature", {}),
    ({}, d["body"], "missing_header", {}),
    (d["headers"], d["body"], "stale_timestamp", {"now": int(d["headers"]["webhook-timestamp"]) + 301}),
    (dict(hum, **{"x-humana-signature": "zz"}), d["body"], "malformed_header", {}),
]:
    try:
        he.verify_webhook(body.encode(), headers, cfg["secret"], **kw)
        raise SystemExit("accepted: " + reason)
    except he.WebhookVerificationError as e:
        assert e.reason == reason, (e.reason, reason)
print("verified", flush=True)
for ev in he.stream(cfg["url"], cfg["key"], events=["chat.*"]):
    print(json.dumps(ev), flush=True)
`;
    const py = spawn('python3', ['-c', script], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    py.stdout.on('data', (c: Buffer) => (stdout += c));
    py.stderr.on('data', (c: Buffer) => (stderr += c));
    try {
      py.stdin.write(
        JSON.stringify({ delivery: { body: delivery.body, headers: delivery.headers }, secret, url: app.url, key: org.key }) + '\n',
      );
      await waitFor(() => stdout.includes('verified') || py.exitCode !== null, 10_000);
      assert.ok(stdout.includes('verified'), stderr);
      const lines = () =>
        stdout
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as { id: string; type: string });
      await new Promise((r) => setTimeout(r, 500)); // let the stream connect
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await sdk.events.publish({ type: 'chat.started', data: sampleData['chat.started'] })).id);
      await waitFor(() => lines().length >= 3, 10_000);
      killer.killAll();
      for (let i = 0; i < 3; i++) ids.push((await sdk.events.publish({ type: 'chat.ended', data: sampleData['chat.ended'] })).id);
      await waitFor(() => lines().length >= 6, 15_000);
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(
        lines().map((l) => l.id),
        ids,
        'no gap, no duplicate across the cut',
      );
    } finally {
      py.kill();
    }
  });

  it('signatureHeaders matches the contract formulas', () => {
    const h = signatureHeaders({ secret: 'plain-secret-1234567', id: 'evt_x', body: 'b', timestamp: 1700000000 });
    assert.equal(h['x-humana-signature'], createHmac('sha256', 'plain-secret-1234567').update('1700000000.b').digest('hex'));
    assert.equal(
      h['webhook-signature'],
      `v1,${createHmac('sha256', 'plain-secret-1234567').update('evt_x.1700000000.b').digest('base64')}`,
    );
  });
});
