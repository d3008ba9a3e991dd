/// <reference lib="dom" />
/**
 * The operator console in headless Chromium against the app as `npm start` runs it: one `node dist/src/main.js`
 * process (ROLE=all) on a fixed loopback port (restartable on the same URL and data), a private Redis, a temp SQLite
 * file, real receivers. No mock of the API anywhere.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import request from 'supertest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { freePort } from '../../src/config/redis-bootstrap.js';
import { ADMIN_TOKEN, AppProcess, BOOTSTRAP_KEY } from '../support/launcher.js';
import { Receiver } from '../support/receiver.js';
import { startPrivateRedis, type PrivateRedis } from '../support/redis.js';

export { ADMIN_TOKEN, BOOTSTRAP_KEY };
export const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
let axeSource: string | undefined;

/** `{ skip }` for node:test when Chromium is not installed (CI installs it: .ci/run). */
export const skipWithoutBrowser: string | false = existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing (apt-get install chromium)`;

export interface Org {
  id: string;
  key: string;
  auth: { Authorization: string };
}

export class ConsoleRig {
  private constructor(
    readonly app: AppProcess,
    readonly redis: PrivateRedis,
    private readonly dir: string,
    readonly browser: Browser,
  ) {}

  static async start(env: Record<string, string> = {}): Promise<ConsoleRig> {
    const redis = await startPrivateRedis();
    const dir = mkdtempSync(path.join(tmpdir(), 'humana-console-'));
    const app = new AppProcess({
      role: 'all',
      port: await freePort(),
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'test',
        HOST: '127.0.0.1',
        REDIS_URL: redis.url,
        DATABASE_URL: `sqlite:${path.join(dir, 'app.sqlite')}`,
        ADMIN_TOKEN,
        BOOTSTRAP_API_KEY: BOOTSTRAP_KEY,
        ALLOW_PRIVATE_WEBHOOK_URLS: 'true',
        LOG_LEVEL: 'warn',
        ...env,
      },
    });
    try {
      await app.start(60_000);
      const { chromium } = await import('playwright-core');
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
      return new ConsoleRig(app, redis, dir, browser);
    } catch (err) {
      await app.kill('SIGKILL');
      await redis.destroy();
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  get url(): string {
    return this.app.url;
  }

  get http(): ReturnType<typeof request> {
    return request(this.url);
  }

  /** Stops the app process (SIGTERM) and starts it again on the same port, Redis and database. */
  async restart(): Promise<void> {
    await this.app.kill('SIGTERM');
    await this.app.start(60_000);
  }

  async createOrg(name = `org-${Math.random().toString(16).slice(2, 8)}`, scopes?: string[]): Promise<Org> {
    const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };
    const org = await this.http.post('/api/v1/admin/organizations').set(admin).send({ name }).expect(201);
    const key = await this.http
      .post(`/api/v1/admin/organizations/${org.body.id}/api-keys`)
      .set(admin)
      .send(scopes ? { name: 'console-test', scopes } : { name: 'console-test' })
      .expect(201);
    return { id: org.body.id as string, key: key.body.key as string, auth: { Authorization: `Bearer ${key.body.key}` } };
  }

  /** A fresh context (own sessionStorage) at 1280×800 with the console open; page errors fail the test at close(). */
  async open(hash = '', options: Parameters<Browser['newContext']>[0] = {}): Promise<ConsolePage> {
    const context = await this.browser.newContext({ viewport: { width: 1280, height: 800 }, ...options });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(String(err)));
    await page.goto(`${this.url}/admin/${hash}`);
    return new ConsolePage(this, context, page, errors);
  }

  async close(): Promise<void> {
    await this.browser.close().catch(() => undefined);
    await this.app.kill('SIGTERM');
    await this.redis.destroy();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export class ConsolePage {
  constructor(
    readonly rig: ConsoleRig,
    readonly context: BrowserContext,
    readonly page: Page,
    readonly errors: string[],
  ) {}

  /** Signs in through the form and waits for the page it lands on. */
  async signIn(token: string): Promise<void> {
    const { page } = this;
    if (!page.url().includes('#/signin')) await page.goto(`${this.rig.url}/admin/#/signin`);
    await page.getByLabel('API key or admin token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForFunction(() => !location.hash.startsWith('#/signin'));
  }

  async go(hash: string): Promise<void> {
    // The same hash again re-renders the view (as a fresh visit), as navigate() does in the console.
    await this.page.evaluate((h) => (location.hash === h ? dispatchEvent(new HashChangeEvent('hashchange')) : (location.hash = h)), hash);
    await this.page.waitForFunction((h) => location.hash === h, hash);
  }

  /**
   * Presses Tab (from the top of the page) until the focused element's `aria-label`, text or label matches `name`;
   * fails with the path taken when `max` presses do not reach it.
   */
  async tabTo(name: RegExp, max = 80): Promise<void> {
    await this.page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    const seen: string[] = [];
    for (let i = 0; i < max; i++) {
      await this.page.keyboard.press('Tab');
      const f = await this.page.evaluate(() => {
        const el = document.activeElement as HTMLElement | null;
        if (!el) return '';
        const label = el.id ? document.querySelector(`label[for="${CSS.escape(el.id)}"]`)?.textContent : null;
        return (el.getAttribute('aria-label') ?? label ?? el.textContent ?? '').trim().slice(0, 60);
      });
      seen.push(f);
      if (name.test(f)) return;
    }
    assert.fail(`${String(name)} not reached by Tab: ${seen.join(' → ')}`);
  }

  /** axe-core on the current page: no serious or critical violation. */
  async assertAccessible(label: string): Promise<void> {
    // The console's CSP (script-src 'self') refuses page.addScriptTag's inline script; evaluating through the
    // DevTools protocol is not subject to it, so the page keeps its real CSP under test.
    axeSource ??= readFileSync(AXE, 'utf8');
    if (!(await this.page.evaluate(() => 'axe' in globalThis))) await this.page.evaluate(axeSource);
    const violations = await this.page.evaluate(async () => {
      const axe = (
        globalThis as unknown as {
          axe: {
            run: (
              ctx: Document,
              opts: object,
            ) => Promise<{ violations: Array<{ id: string; impact: string; help: string; nodes: Array<{ target: string[] }> }> }>;
          };
        }
      ).axe;
      const r = await axe.run(document, { resultTypes: ['violations'] });
      return r.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
      }));
    });
    const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    assert.deepEqual(bad, [], `${label}: axe violations\n${JSON.stringify(bad, null, 2)}`);
  }

  /** docs/img/<name>.png at 1280×800, only with UPDATE_SCREENSHOTS=1 (CI leaves the tree clean). */
  async screenshot(name: string): Promise<void> {
    if (process.env.UPDATE_SCREENSHOTS !== '1') return;
    await this.page.evaluate(() => document.querySelectorAll('#notices > *').forEach((n: Element) => n.remove()));
    await this.page.screenshot({ path: path.join(REPO_ROOT, 'docs/img', `${name}.png`) });
  }

  async close(): Promise<void> {
    await this.context.close();
    assert.deepEqual(this.errors, [], 'uncaught errors in the page');
  }
}

/** The `data` of a `message.sent` event numbered n. */
export const message = (n: number, companionId = 'comp-1') => ({
  messageId: `msg-${n}`,
  companionId,
  userId: 'user-1',
  content: `hello ${n}`,
  type: 'text',
  metadata: {},
});

/** A suite's console: the rig, an organization "Acme", a receiver and a page signed in with the organization's key. */
export interface SignedInConsole {
  rig: ConsoleRig;
  org: Org;
  rx: Receiver;
  c: ConsolePage;
  page: Page;
  /** Publishes one event of the organization through the API (202); its id. */
  publish(type: string, data: object): Promise<string>;
  /** Closes the page (failing on uncaught page errors), the receiver and the rig. */
  close(): Promise<void>;
}

export async function signedInConsole(): Promise<SignedInConsole> {
  const rig = await ConsoleRig.start();
  let rx: Receiver | undefined;
  let c: ConsolePage | undefined;
  const close = async () => {
    try {
      await c?.close();
    } finally {
      await rx?.close();
      await rig.close();
    }
  };
  try {
    const org = await rig.createOrg('Acme');
    rx = await Receiver.start();
    c = await rig.open();
    await c.signIn(org.key);
    const publish = async (type: string, data: object) =>
      (await rig.http.post('/api/v1/events').set(org.auth).send({ type, data }).expect(202)).body.id as string;
    return { rig, org, rx, c, page: c.page, publish, close };
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
}
