// Sign-in, the admin side (organizations, keys, Bull Board), dialogs and the keyboard, in headless Chromium.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_TOKEN, ConsoleRig, skipWithoutBrowser as skip, type Org } from './browser-support.js';

describe('console in a browser: sign-in, admin, dialogs, keyboard', { skip }, () => {
  let rig: ConsoleRig;
  let org: Org;
  before(async () => {
    rig = await ConsoleRig.start();
    org = await rig.createOrg('Acme');
  });
  after(() => rig?.close());

  test('a wrong credential gets a clear error and stays on the sign-in page', async () => {
    const c = await rig.open('#/signin');
    try {
      await c.assertAccessible('sign-in');
      await c.screenshot('signin');
      await c.page.getByLabel('API key or admin token').fill('hk_not_a_real_key_000000000000');
      await c.page.getByRole('button', { name: 'Sign in' }).click();
      const alert = c.page.getByRole('alert');
      await alert.waitFor();
      assert.match(await alert.innerText(), /Neither a valid API key nor the admin token \(HTTP 401\)/);
      assert.match(c.page.url(), /#\/signin$/);
      await c.page.getByRole('button', { name: 'Sign in' }).click();
      await c.page.getByLabel('API key or admin token').fill('');
      await c.page.getByRole('button', { name: 'Sign in' }).click();
      await c.page.getByText('Paste a key or token first.').waitFor();
    } finally {
      await c.close();
    }
  });

  test('signs in with an API key: webhooks of that organization, no admin section', async () => {
    const c = await rig.open();
    try {
      await c.signIn(org.key);
      assert.match(c.page.url(), /#\/webhooks$/);
      await c.page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
      const nav = c.page.getByRole('navigation', { name: 'Console sections' });
      assert.equal(await nav.getByRole('link', { name: 'Organizations' }).count(), 0);
      await c.page.getByRole('button', { name: 'Sign out' }).click();
      await c.page.getByRole('heading', { name: 'Sign in' }).waitFor();
      assert.equal(await c.page.evaluate(() => sessionStorage.length), 0, 'sign out forgets the credential');
    } finally {
      await c.close();
    }
  });

  test('as admin: organizations listed, create one, create a key (shown once), use it, revoke it', async () => {
    const c = await rig.open();
    const { page } = c;
    try {
      await c.signIn(ADMIN_TOKEN);
      assert.match(page.url(), /#\/organizations$/);
      const table = page.getByRole('table', { name: 'Organizations' });
      await table.getByRole('cell', { name: 'Acme', exact: true }).waitFor();
      await page.getByLabel('New organization').fill('Globex');
      await page.getByRole('button', { name: 'Create', exact: true }).click();
      const row = table.getByRole('row').filter({ hasText: 'Globex' });
      await row.waitFor();
      await c.assertAccessible('organizations');
      await c.screenshot('organizations');

      await row.getByRole('button', { name: 'New API key' }).click();
      const dialog = page.getByRole('dialog', { name: 'New API key for Globex' });
      await dialog.getByLabel('Name').fill('ops');
      await dialog.getByRole('checkbox', { name: 'webhooks:write' }).uncheck();
      await dialog.getByRole('button', { name: 'Create key' }).click();
      const keyField = dialog.getByLabel(/^API key key_/);
      await keyField.waitFor();
      const key = await keyField.inputValue();
      assert.match(key, /^hk_/);
      const keyId = (await dialog.getByText(/^API key key_/).innerText()).replace('API key ', '');
      const r = await rig.http.get('/api/v1/webhooks').set('Authorization', `Bearer ${key}`);
      assert.equal(r.status, 200, 'the key shown works');
      const write = await rig.http
        .post('/api/v1/webhooks')
        .set('Authorization', `Bearer ${key}`)
        .send({ url: 'http://127.0.0.1:9/x', events: ['*'] });
      assert.equal(write.status, 403, 'the scope left out is left out');

      await dialog.getByRole('button', { name: 'Use in console as Globex' }).click();
      await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
      assert.equal(await page.getByRole('dialog').count(), 0);
      await page.getByText(/Globex · hk_/).waitFor();

      await c.go('#/organizations');
      const keys = page.getByRole('table', { name: 'API keys created in this tab' });
      await keys.getByRole('row').filter({ hasText: keyId }).getByRole('button', { name: 'Revoke' }).click();
      await page.getByRole('dialog', { name: 'Revoke API key' }).getByRole('button', { name: 'Revoke' }).click();
      await page.getByText(`Key ${keyId} revoked`).waitFor();
      assert.equal((await rig.http.get('/api/v1/webhooks').set('Authorization', `Bearer ${key}`)).status, 401);
    } finally {
      await c.close();
    }
  });

  test('as admin: limits are saved through the dialog', async () => {
    const c = await rig.open();
    try {
      await c.signIn(ADMIN_TOKEN);
      const row = c.page.getByRole('table', { name: 'Organizations' }).getByRole('row').filter({ hasText: 'Acme' });
      await row.getByRole('button', { name: 'Limits' }).click();
      const dialog = c.page.getByRole('dialog', { name: 'Limits of Acme' });
      await dialog.getByLabel('Events per minute').fill('600');
      await dialog.getByRole('button', { name: 'Save limits' }).click();
      await row.getByText('eventsPerMinute: 600').waitFor();
      const orgs = await rig.http.get('/api/v1/admin/organizations').set('Authorization', `Bearer ${ADMIN_TOKEN}`).expect(200);
      const acme = (orgs.body.organizations as Array<{ id: string; limits: Record<string, number> }>).find((o) => o.id === org.id)!;
      assert.equal(acme.limits.eventsPerMinute, 600);
    } finally {
      await c.close();
    }
  });

  test('Bull Board is reachable from the console (admin token as Basic password)', async () => {
    const c = await rig.open('', { httpCredentials: { username: 'admin', password: ADMIN_TOKEN } });
    try {
      await c.signIn(ADMIN_TOKEN);
      const [board] = await Promise.all([c.context.waitForEvent('page'), c.page.getByRole('link', { name: /Queues/ }).click()]);
      const response = await board.waitForLoadState().then(() => board.reload());
      assert.equal(response?.status(), 200);
      assert.match(board.url(), /\/admin\/queues/);
      await board
        .waitForFunction(() => /bull|queue/i.test(document.title + document.body.innerText), undefined, { timeout: 10_000 })
        .catch(async (err) => {
          throw new Error(`${String(err)}: ${await board.title()} ${(await board.content()).slice(0, 800)}`);
        });
    } finally {
      await c.close();
    }
  });

  test('a dialog closes when the route changes (browser Back)', async () => {
    const c = await rig.open();
    const { page } = c;
    try {
      await c.signIn(ADMIN_TOKEN);
      await c.go('#/metrics');
      await c.go('#/organizations');
      const row = page.getByRole('table', { name: 'Organizations' }).getByRole('row').filter({ hasText: 'Acme' });
      await row.getByRole('button', { name: 'Limits' }).click();
      await page.getByRole('dialog', { name: 'Limits of Acme' }).waitFor();
      await page.goBack();
      await page.waitForFunction(() => location.hash === '#/metrics');
      await page.getByRole('heading', { name: 'Metrics & health' }).waitFor();
      assert.equal(await page.locator('dialog[open]').count(), 0, 'the dialog of the page left behind is closed');
      assert.equal(await page.locator('dialog').count(), 0, 'and removed');
    } finally {
      await c.close();
    }
  });

  test('keyboard only: sign in, then reach and use every control of a dialog, Escape closes it', async () => {
    const c = await rig.open('#/signin');
    const { page } = c;
    try {
      const focused = () =>
        page.evaluate(() => {
          const el = document.activeElement as HTMLElement | null;
          return el ? `${el.tagName.toLowerCase()}|${el.getAttribute('name') ?? ''}|${el.textContent?.trim().slice(0, 40) ?? ''}` : '';
        });
      // Tab from the top of the page to the token field and the button, type, press Enter.
      const seen: string[] = [];
      for (let i = 0; i < 10 && !(await focused()).startsWith('input|token'); i++) {
        await page.keyboard.press('Tab');
        seen.push(await focused());
      }
      assert.match(await focused(), /^input\|token/, `tab order: ${seen.join(' → ')}`);
      await page.keyboard.type(ADMIN_TOKEN);
      await page.keyboard.press('Tab');
      assert.match(await focused(), /^button\|\|Sign in/);
      await page.keyboard.press('Enter');
      await page.getByRole('table', { name: 'Organizations' }).waitFor();

      // Tab to the first "Limits" button, open the dialog with Enter, tab through it, Escape.
      for (let i = 0; i < 60 && (await focused()) !== 'button||Limits'; i++) await page.keyboard.press('Tab');
      assert.equal(await focused(), 'button||Limits');
      await page.keyboard.press('Enter');
      const dialog = page.getByRole('dialog');
      await dialog.waitFor();
      // A modal <dialog> makes the page behind it inert: Tab cycles through the dialog (and the browser's own UI,
      // seen here as <body>), never into the page.
      const inDialog: string[] = [];
      for (let i = 0; i < 8; i++) {
        const f = await focused();
        inDialog.push(f);
        if (!f.startsWith('body|'))
          assert.ok(
            await page.evaluate(() => !!document.activeElement?.closest('dialog')),
            `focus reached the page behind: ${inDialog.join(' → ')}`,
          );
        await page.keyboard.press('Tab');
      }
      for (const control of [
        'input|eventsPerMinute',
        'input|eventsPerMonth',
        'input|maxConnections',
        'button||Save limits',
        'button||Close',
      ]) {
        assert.ok(
          inDialog.some((f) => f.startsWith(control)),
          `${control} not reached: ${inDialog.join(' → ')}`,
        );
      }
      await page.keyboard.press('Escape');
      assert.equal(await page.locator('dialog[open]').count(), 0);
      assert.equal(await focused(), 'button||Limits', 'focus returns to the button that opened the dialog');
    } finally {
      await c.close();
    }
  });
});
