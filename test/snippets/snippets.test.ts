import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CORRECTED_SSE_NODE,
  CORRECTED_SSE_PYTHON,
  SEED_SSE_BROWSER,
  SEED_SSE_NODE,
  SEED_SSE_PYTHON,
  SEED_VERIFY_WEBHOOK_NODE,
  SEED_WS_BROWSER,
  substitute,
} from './snippets.js';
import { createOrg, Receiver, startTestApp, waitFor, type TestApp, type TestOrg } from './support.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const message = {
  messageId: 'msg-1',
  companionId: 'comp-123',
  userId: 'user-789',
  content: 'Hello from the seed',
  type: 'text',
  metadata: {},
};

/** A child process whose output is collected until it is killed. */
function run(cmd: string, args: string[]): { child: ChildProcess; out: () => string } {
  let out = '';
  const child = spawn(cmd, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (c: Buffer) => (out += c));
  child.stderr!.on('data', (c: Buffer) => (out += c));
  return { child, out: () => out };
}

describe('the seed client snippets against a live server', () => {
  let app: TestApp;
  let org: TestOrg;
  before(async () => {
    app = await startTestApp({ env: { HEARTBEAT_INTERVAL_MS: '300' } });
    org = await createOrg(app);
  });
  after(() => app.close());

  const publish = () => app.http.post('/api/v1/events').set(org.auth).send({ type: 'message.sent', data: message }).expect(202);
  /** Publishes every 300 ms until `seen()` (the client may still be connecting or subscribing). */
  async function publishUntil(seen: () => boolean, timeoutMs = 15_000): Promise<void> {
    await waitFor(
      async () => (seen() ? true : (await publish(), await new Promise((r) => setTimeout(r, 300)), seen() || null)),
      timeoutMs,
      10,
    );
  }

  test('webhook verifyWebhook (Node.js), verbatim: accepts a real delivery, rejects a tampered one', async () => {
    const rx = await Receiver.start();
    try {
      const hook = await app.http
        .post('/api/v1/webhooks')
        .set(org.auth)
        .send({ url: `${rx.url}/seed`, events: ['message.sent'] })
        .expect(201);
      const verifyWebhook = new Function('require', `${SEED_VERIFY_WEBHOOK_NODE}\nreturn verifyWebhook`)(
        createRequire(import.meta.url),
      ) as (payload: string, signature: string, secret: string, timestamp: string) => boolean;
      await publish();
      const [r] = (await waitFor(() => (rx.at('/seed').length ? rx.at('/seed') : null)))!;
      const [sig, ts] = [r.headers['x-humana-signature'] as string, r.headers['x-humana-timestamp'] as string];
      assert.equal(verifyWebhook(r.body, sig, hook.body.secret, ts), true);
      assert.equal(verifyWebhook(r.body.replace('Hello', 'Hallo'), sig, hook.body.secret, ts), false);
      assert.equal(verifyWebhook(r.body, sig, hook.body.secret, String(Number(ts) - 301)), false, 'replay window');
    } finally {
      await rx.close();
    }
  });

  test('SSE in Node.js: the verbatim snippet fails on eventsource v4; the corrected one receives message.sent', async () => {
    const verbatim = run(process.execPath, ['-e', substitute(SEED_SSE_NODE, app.url, org.key)]);
    const code = await new Promise<number | null>((resolve) => verbatim.child.on('exit', resolve));
    assert.notEqual(code, 0);
    assert.match(verbatim.out(), /TypeError: EventSource is not a constructor/);

    const corrected = run(process.execPath, ['-e', substitute(CORRECTED_SSE_NODE, app.url, org.key)]);
    try {
      await publishUntil(() => corrected.out().includes('New message: Hello from the seed'));
    } finally {
      corrected.child.kill();
    }
  });

  test('SSE in Python: the verbatim snippet needs sseclient-py (and import json); the corrected one (requests only) receives message.sent', async (t) => {
    const hasRequests = await new Promise<boolean>((resolve) =>
      spawn('python3', ['-c', 'import requests']).on('exit', (c) => resolve(c === 0)),
    );
    if (!hasRequests) return t.skip('python3 with the requests package is not installed');
    const verbatim = run('python3', ['-c', substitute(SEED_SSE_PYTHON, app.url, org.key)]);
    await new Promise((resolve) => verbatim.child.on('exit', resolve));
    assert.match(verbatim.out(), /No module named 'sseclient'/, 'sseclient-py is not installed here (no PyPI)');
    const py = run('python3', ['-c', substitute(CORRECTED_SSE_PYTHON, app.url, org.key)]);
    try {
      await publishUntil(() => py.out().includes("message.sent {'messageId': 'msg-1'"));
      assert.match(py.out(), /'content': 'Hello from the seed'/);
    } finally {
      py.child.kill();
    }
  });

  describe('browser snippets in headless Chromium', () => {
    // playwright-core is loaded only when Chromium exists (CI installs it: .ci/run).
    let browser: import('playwright-core').Browser | undefined;
    const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing (apt-get install chromium); browser snippets not run`;
    before(async () => {
      if (skip) return;
      const { chromium } = await import('playwright-core');
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    });
    after(() => browser?.close());

    async function inPage(snippet: string): Promise<{ logs: string[]; close: () => Promise<void> }> {
      const page = await browser!.newPage();
      const logs: string[] = [];
      page.on('console', (m) => logs.push(`${m.type()} ${m.text()}`));
      await page.goto(`${app.url}/api/v1/asyncapi.json`); // any same-origin page: the SSE snippet uses a relative URL
      await page.addScriptTag({ content: snippet });
      return { logs, close: () => page.close() };
    }

    test('SSE in the browser: verbatim, with access_token appended to the URL', { skip }, async () => {
      const page = await inPage(substitute(SEED_SSE_BROWSER, app.url, org.key, { browserToken: true }));
      try {
        await publishUntil(() => page.logs.some((l) => l === 'log New message: Hello from the seed'));
        assert.ok(!page.logs.some((l) => l.startsWith('error SSE error')), page.logs.join('\n'));
      } finally {
        await page.close();
      }
    });

    test('SSE in the browser without the substitution: 401 (the headers option is ignored by browsers)', { skip }, async () => {
      const page = await inPage(substitute(SEED_SSE_BROWSER, app.url, org.key));
      try {
        await waitFor(() =>
          page.logs.some((l) => l.includes('401')) && page.logs.some((l) => l.startsWith('error SSE error')) ? true : null,
        );
      } finally {
        await page.close();
      }
    });

    test('WebSocket in the browser: verbatim, with access_token appended to the URL', { skip }, async () => {
      const page = await inPage(substitute(SEED_WS_BROWSER, app.url, org.key, { browserToken: true }));
      try {
        await publishUntil(() => page.logs.some((l) => l.startsWith('log Event received:')));
      } finally {
        await page.close();
      }
    });
  });
});
