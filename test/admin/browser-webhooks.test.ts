// Webhooks, deliveries, dead letters, event types and the audit log through the console, in headless Chromium,
// against the app as `npm start` runs it and real receivers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Receiver } from '../support/receiver.js';
import { waitFor } from '../support/time.js';
import {
  message,
  signedInConsole,
  skipWithoutBrowser as skip,
  type ConsolePage,
  type ConsoleRig,
  type Org,
  type SignedInConsole,
} from './browser-support.js';

describe('console in a browser: webhooks, deliveries, dead letters', { skip }, () => {
  let rig: ConsoleRig;
  let org: Org;
  let rx: Receiver;
  let c: ConsolePage;
  let page: ConsolePage['page'];
  let healed = false;
  let flakyCount = 0;
  let webhookId = '';
  let goneId = '';
  let ui: SignedInConsole;
  before(async () => {
    ui = await signedInConsole();
    ({ rig, org, rx, c, page } = ui);
    // /flaky: 500, 500, then 200 for events (tests always 200); /gone: 410 until healed.
    rx.on('/flaky', (req) =>
      req.headers['x-humana-event'] === 'webhook.test'
        ? { status: 200, body: 'test ok' }
        : ++flakyCount <= 2
          ? { status: 500, body: `boom ${flakyCount}` }
          : { status: 200, body: 'ok!' },
    );
    rx.on('/gone', () => (healed ? { status: 200, body: 'back' } : { status: 410, body: 'gone away' }));
  });
  after(() => ui?.close());
  const publish = (n: number) => ui.publish('message.sent', message(n));

  test('create a webhook: a bad URL gets a field error; a good one is created and its secret shown once', async () => {
    await c.go('#/webhooks/new');
    await page.getByRole('checkbox', { name: 'message.sent' }).check();
    await page.getByLabel('Endpoint URL').fill('ftp://example.com/hook');
    await page.getByRole('button', { name: 'Create webhook' }).click();
    const fieldError = page.locator('.field[data-field="url"] .field-error');
    await page.waitForFunction(() => document.querySelector('.field[data-field="url"] .field-error')?.textContent);
    assert.match(await fieldError.innerText(), /scheme "ftp" is not supported/);
    assert.equal(await page.getByLabel('Endpoint URL').getAttribute('aria-invalid'), 'true');

    await page.getByLabel('Endpoint URL').fill(`${rx.url}/flaky`);
    await page.getByLabel('Description').fill('flaky receiver');
    await page.getByLabel('Backoff multiplier').fill('1');
    await page.getByLabel('Max delay (s)').fill('1');
    await page.getByLabel('Filters (JSON)').fill('{ "userId": ["user-*"] }');
    await c.assertAccessible('webhook form');
    await page.getByRole('button', { name: 'Create webhook' }).click();
    await page.getByRole('heading', { name: 'Webhook created' }).waitFor();
    const secret = await page.getByLabel('Signing secret').inputValue();
    assert.match(secret, /^whsec_/);
    await page.getByRole('link', { name: 'Open webhook' }).click();
    await page.waitForFunction(() => /#\/webhooks\/wh_/.test(location.hash));
    webhookId = page.url().split('#/webhooks/')[1];
    const stored = await rig.http.get(`/api/v1/webhooks/${webhookId}`).set(org.auth).expect(200);
    assert.deepEqual(stored.body.retry, { maxAttempts: 3, backoffMultiplier: 1, maxDelay: 1 });
    assert.equal((await rig.http.get(`/api/v1/webhooks/${webhookId}/secret`).set(org.auth)).body.secret, secret);
  });

  test('filters with operators are shown readably on the webhook page', async () => {
    const hook = await rig.http
      .post('/api/v1/webhooks')
      .set(org.auth)
      .send({
        url: `${rx.url}/never`,
        events: ['message.*'],
        filters: {
          userId: ['user-*', 'bot-1'],
          'metadata.score': { gte: 3, lt: 10 },
          severity: { not: ['low'] },
          'metadata.source': { exists: true },
        },
      })
      .expect(201);
    await c.go(`#/webhooks/${hook.body.id}`);
    for (const text of ['userId is one of user-*, bot-1', 'metadata.score ≥ 3 and < 10', 'severity is not low', 'metadata.source exists']) {
      await page.getByText(text, { exact: true }).waitFor();
    }
    await page.getByText('Transform').waitFor();
    await rig.http.delete(`/api/v1/webhooks/${hook.body.id}`).set(org.auth).expect(204);
  });

  test('send a test event and see the result (and the delivery it recorded)', async () => {
    await c.go(`#/webhooks/${webhookId}`);
    await page.getByRole('button', { name: 'Send test' }).click();
    const dialog = page.getByRole('dialog', { name: /Test delivery to/ });
    await dialog.getByText('HTTP 200').waitFor();
    await dialog.getByText('success').waitFor();
    assert.equal(rx.at('/flaky').filter((r) => r.headers['x-humana-event'] === 'webhook.test').length, 1);
    await dialog.getByRole('button', { name: 'Close' }).click();
  });

  test('a delivery shows every attempt: status, duration, error and response snippet (500, 500, 200)', async () => {
    await publish(1);
    const deliveryId = (await waitFor(async () => {
      const r = await rig.http.get(`/api/v1/webhooks/${webhookId}/deliveries?eventType=message.sent`).set(org.auth);
      const d = r.body.deliveries?.[0];
      return d?.status === 'success' ? (d.id as string) : null;
    }, 30_000)) as string;
    await c.go(`#/webhooks/${webhookId}`);
    const row = page.getByRole('table', { name: 'Deliveries' }).getByRole('row').filter({ hasText: 'message.sent' });
    await row.getByRole('link', { name: deliveryId }).click();
    const attempts = page.getByRole('table', { name: 'Attempts' });
    await attempts.waitFor();
    const rows = await attempts.locator('tbody tr').all();
    assert.equal(rows.length, 3, 'three attempts');
    const cells = await Promise.all(rows.map(async (r) => (await r.locator('td').allInnerTexts()).map((t) => t.trim())));
    // # | Time | Result | HTTP | Duration | Error | Response
    assert.deepEqual(
      cells.map((r) => [r[0], r[2], r[3], r[6]]),
      [
        ['1', 'failed', '500', 'boom 1'],
        ['2', 'failed', '500', 'boom 2'],
        ['3', 'success', '200', 'ok!'],
      ],
    );
    assert.match(cells[0][5], /^HTTP 500\s*http_5xx$/);
    assert.equal(cells[2][5], '—');
    for (const r of cells) assert.match(r[4], /^\d+ ms$|^\d+\.\d+ s$/, `duration ${r[4]}`);
    assert.ok(!(await page.getByText('No attempt recorded yet.').count()));
    await c.assertAccessible('delivery');
    await c.screenshot('delivery');

    // Replay: a new delivery of the same event, opened in its place.
    await page.getByRole('button', { name: 'Replay' }).click();
    await page.waitForFunction((old) => /deliveries\/del_/.test(location.hash) && !location.hash.endsWith(old), deliveryId);
    const replayId = page.url().split('/deliveries/')[1];
    const replayed = await waitFor(async () => {
      const r = await rig.http.get(`/api/v1/webhooks/${webhookId}/deliveries/${replayId}`).set(org.auth);
      return r.body.status === 'success' ? r.body : null;
    }, 20_000);
    assert.equal(
      replayed!.eventId,
      (await rig.http.get(`/api/v1/webhooks/${webhookId}/deliveries/${deliveryId}`).set(org.auth)).body.eventId,
    );
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.getByRole('table', { name: 'Attempts' }).getByRole('cell', { name: 'ok!' }).waitFor();
  });

  test('webhook page: settings, deliveries, secret rotation', async () => {
    await c.go(`#/webhooks/${webhookId}`);
    await page.getByText('userId is user-*', { exact: true }).waitFor();
    await page.getByRole('table', { name: 'Deliveries' }).waitFor();
    await c.assertAccessible('webhook');
    await c.screenshot('webhook');
    const before = (await rig.http.get(`/api/v1/webhooks/${webhookId}/secret`).set(org.auth)).body.secret;
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    await page.getByRole('dialog', { name: 'Rotate signing secret' }).getByRole('button', { name: 'Rotate' }).click();
    const dialog = page.getByRole('dialog', { name: 'New signing secret' });
    const shown = await dialog.getByLabel('New signing secret').inputValue();
    assert.notEqual(shown, before);
    assert.equal((await rig.http.get(`/api/v1/webhooks/${webhookId}/secret`).set(org.auth)).body.secret, shown);
    await dialog.getByText(/previous secret is still accepted until/).waitFor();
    await dialog.getByRole('button', { name: 'Close' }).click();
  });

  test('webhooks list', async () => {
    await c.go('#/webhooks');
    await page.getByRole('table', { name: 'Webhooks' }).getByText('flaky receiver').waitFor();
    await c.assertAccessible('webhooks');
    await c.screenshot('webhooks');
  });

  test('dead letters: retry disabled with the reason, retry one, retry all, purge', async () => {
    const gone = await rig.http
      .post('/api/v1/webhooks')
      .set(org.auth)
      .send({ url: `${rx.url}/gone`, events: ['message.sent'], description: 'gone receiver' })
      .expect(201);
    goneId = gone.body.id;
    for (const n of [10, 11, 12]) await publish(n);
    const dlqCount = async () => (await rig.http.get(`/api/v1/dlq?webhookId=${goneId}`).set(org.auth)).body.failedWebhooks.length as number;
    await waitFor(async () => (await dlqCount()) === 3, 20_000);

    await rig.http.patch(`/api/v1/webhooks/${goneId}`).set(org.auth).send({ enabled: false }).expect(200);
    await c.go(`#/dlq?webhookId=${goneId}`);
    const table = page.getByRole('table', { name: 'Dead letters' });
    await table.locator('tbody tr').nth(2).waitFor();
    await table.getByText('Retry blocked: the webhook is disabled: enable it to retry').first().waitFor();
    assert.equal(await table.getByRole('button', { name: 'Retry' }).first().isDisabled(), true);

    await table.getByRole('button', { name: 'Details' }).first().click();
    const details = page.getByRole('dialog', { name: /Dead letter dlq_/ });
    await details.getByRole('table', { name: 'Attempts' }).getByRole('cell', { name: 'gone away' }).waitFor();
    await c.assertAccessible('dlq details');
    await details.getByRole('button', { name: 'Close' }).click();

    await rig.http.patch(`/api/v1/webhooks/${goneId}`).set(org.auth).send({ enabled: true }).expect(200);
    healed = true;
    await page.getByRole('button', { name: 'Refresh' }).click();
    await table.locator('tbody tr').nth(2).waitFor();
    assert.equal(await table.getByRole('button', { name: 'Retry' }).first().isDisabled(), false);
    await c.assertAccessible('dlq');
    await c.screenshot('dlq');
    await table.getByRole('button', { name: 'Retry' }).first().click();
    await page.getByText(/sent for delivery again/).waitFor();
    await waitFor(async () => (await dlqCount()) === 2, 20_000);
    await table.locator('tbody tr').nth(1).waitFor();
    assert.equal(await table.locator('tbody tr').count(), 2);

    await page.getByRole('button', { name: 'Retry all matching' }).click();
    const confirm = page.getByRole('dialog', { name: 'Retry dead letters' });
    await confirm.getByText(`webhookId = ${goneId}`).waitFor();
    await confirm.getByRole('button', { name: 'Retry all' }).click();
    await page.getByText('The dead letter queue is empty for these filters.').waitFor();
    assert.equal(await dlqCount(), 0);
    await waitFor(
      () => rx.at('/gone').filter((r) => r.headers['x-humana-event'] === 'message.sent' && r.body.length > 0).length >= 6 || null,
      20_000,
    );

    // Purge: new dead letters, then everything older than a minute from now.
    healed = false;
    await publish(13);
    await waitFor(async () => (await dlqCount()) === 1, 20_000);
    await page.getByRole('button', { name: 'Refresh' }).click();
    await table.locator('tbody tr').first().waitFor();
    const future = await page.evaluate(() => {
      const d = new Date(Date.now() + 60_000);
      const p = (n: number) => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
    });
    await page.getByLabel('Purge entries older than').fill(future);
    await page.getByRole('button', { name: 'Purge', exact: true }).click();
    await page.getByRole('dialog', { name: 'Purge dead letters' }).getByRole('button', { name: 'Purge' }).click();
    await page.getByText(/dead letter\(s\) purged/).waitFor();
    const total = (await rig.http.get('/api/v1/dlq').set(org.auth)).body.failedWebhooks.length;
    assert.equal(total, 0);
    await page.getByText('The dead letter queue is empty for these filters.').waitFor();
  });

  test('event types: built-ins listed, register a custom type with a JSON Schema, view it, bad schema refused', async () => {
    await c.go('#/event-types');
    const table = page.getByRole('table', { name: 'Event types' });
    await table.getByRole('link', { name: 'message.sent' }).waitFor();
    await page.getByLabel('Name').fill('order.shipped');
    await page.getByLabel('Description').fill('An order left the warehouse');
    await page.getByRole('button', { name: 'Register type' }).click();
    await table.getByRole('link', { name: 'order.shipped' }).waitFor();
    const listed = await rig.http.get('/api/v1/event-types/order.shipped').set(org.auth).expect(200);
    assert.deepEqual(listed.body.schema.required, ['orderId']);
    await c.assertAccessible('event types');
    await c.screenshot('event-types');

    await page.getByLabel('Name').fill('order.broken');
    await page.getByLabel(/JSON Schema of data/).fill('{ "type": "objekt" }');
    await page.getByRole('button', { name: 'Register type' }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: /HTTP 400/ })
      .waitFor();
    assert.equal((await rig.http.get('/api/v1/event-types/order.broken').set(org.auth)).status, 404);

    await table.getByRole('link', { name: 'order.shipped' }).click();
    await page.getByRole('heading', { name: 'Event type order.shipped' }).waitFor();
    await page.getByText('"orderId"').first().waitFor();
    await page.getByText('custom', { exact: true }).waitFor();
  });

  test('audit log: the changes made above, filtered by action; a key without audit:read gets a clear 403', async () => {
    await c.go('#/audit-log');
    const table = page.getByRole('table', { name: 'Audit log' });
    await table.getByText('webhook.secret_rotated').waitFor();
    await table.getByText('event_type.created').waitFor();
    await c.assertAccessible('audit log');
    await c.screenshot('audit-log');
    await page.getByLabel('Action').fill('webhook.created');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForFunction(() =>
      Array.from(document.querySelectorAll('table tbody tr')).every((tr) => tr.textContent!.includes('webhook.created')),
    );
    const api = await rig.http.get('/api/v1/audit-log?action=webhook.created').set(org.auth).expect(200);
    assert.equal(await table.locator('tbody tr').count(), api.body.entries.length);

    const limited = await rig.createOrg('NoAudit', ['webhooks:read']);
    const other = await rig.open();
    try {
      await other.signIn(limited.key);
      await other.go('#/audit-log');
      await other.page
        .getByRole('alert')
        .filter({ hasText: /HTTP 403.*lacks the scope/ })
        .waitFor();
    } finally {
      await other.close();
    }
  });
});
