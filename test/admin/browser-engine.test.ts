// The delivery engine and destinations through the console, in headless Chromium: engine options in the form,
// pause → backlog → resume with a real receiver, an open circuit for a failing receiver, a Redis-stream destination
// with its credentials masked.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import type { Receiver } from '../support/receiver.js';
import { startPrivateRedis, type PrivateRedis } from '../support/redis.js';
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

describe('console in a browser: delivery engine and destinations', { skip }, () => {
  let rig: ConsoleRig;
  let org: Org;
  let rx: Receiver;
  let target: PrivateRedis;
  let c: ConsolePage;
  let page: ConsolePage['page'];
  let ui: SignedInConsole;
  before(async () => {
    ui = await signedInConsole();
    ({ rig, org, rx, c, page } = ui);
    rx.on('/down', () => ({ status: 503, body: 'down for maintenance' }));
    target = await startPrivateRedis();
  });
  after(async () => {
    await target?.destroy();
    await ui?.close();
  });
  const publish = (n: number) => ui.publish('message.sent', message(n, `comp-${n % 2}`));
  const createdId = async () => {
    await page.getByRole('link', { name: 'Open webhook' }).click();
    await page.waitForFunction(() => /#\/webhooks\/wh_/.test(location.hash));
    return page.url().split('#/webhooks/')[1];
  };

  test('the form sets rate limit, ordering, variants and the circuit breaker; the page shows them', async () => {
    await c.go('#/webhooks/new');
    await page.getByRole('checkbox', { name: 'message.sent' }).check();
    await page.getByLabel('Endpoint URL').fill(`${rx.url}/engine`);
    await page.getByLabel('Rate limit (deliveries / s)').fill('50');
    await page.getByLabel('Ordering key').fill('companionId');
    await page.getByLabel('Circuit opens after (failures)').fill('4');
    await page.getByLabel('A/B variants').fill(`${rx.url}/a 3\n${rx.url}/b`);
    await c.assertAccessible('webhook form with engine options');
    for (const control of [/^Rate limit/, /^Ordering key/, /^Circuit opens after/, /^Probe interval/, /^A\/B variants/])
      await c.tabTo(control, 120);
    await page.getByRole('button', { name: 'Create webhook' }).click();
    await page.getByRole('heading', { name: 'Webhook created' }).waitFor();
    const id = await createdId();
    const stored = (await rig.http.get(`/api/v1/webhooks/${id}`).set(org.auth).expect(200)).body;
    assert.deepEqual(stored.rateLimit, { perSecond: 50 });
    assert.deepEqual(stored.ordering, { key: 'companionId' });
    assert.deepEqual(stored.variants, [
      { url: `${rx.url}/a`, weight: 3 },
      { url: `${rx.url}/b`, weight: 1 },
    ]);
    assert.deepEqual(stored.circuitBreaker, { failureThreshold: 4, probeIntervalMs: 30_000 });
    await page.getByText('50 / s', { exact: true }).waitFor();
    await page.getByText(`${rx.url}/a × 3`).waitFor();
    await page.getByText('opens after 4 consecutive failures, probes every 30.0 s').waitFor();

    // Edit: the options come back in the form; clearing them clears them.
    await page.getByRole('link', { name: 'Edit' }).click();
    await page.getByRole('button', { name: 'Save changes' }).waitFor();
    assert.equal(await page.getByLabel('Ordering key').inputValue(), 'companionId');
    await page.getByLabel('Rate limit (deliveries / s)').fill('');
    await page.getByLabel('A/B variants').fill('not-a-url x y');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page
      .locator('.field[data-field="variants"] .field-error')
      .filter({ hasText: /whole-number weight/ })
      .waitFor();
    await page.getByLabel('A/B variants').fill('');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.waitForFunction((wid) => location.hash === `#/webhooks/${wid}`, id);
    const edited = (await rig.http.get(`/api/v1/webhooks/${id}`).set(org.auth).expect(200)).body;
    assert.equal(edited.rateLimit, null);
    assert.equal(edited.variants, null);
    assert.deepEqual(edited.ordering, { key: 'companionId' });
    await page.getByText('unlimited', { exact: true }).waitFor();
    await rig.http.delete(`/api/v1/webhooks/${id}`).set(org.auth).expect(204);
  });

  test('pause: the backlog grows while paused and nothing is sent; resume drains it to the receiver', async () => {
    const hook = await rig.http
      .post('/api/v1/webhooks')
      .set(org.auth)
      .send({ url: `${rx.url}/paused`, events: ['message.sent'], description: 'paused receiver' })
      .expect(201);
    const id = hook.body.id as string;
    await c.go(`#/webhooks/${id}`);
    await page.getByRole('button', { name: 'Pause', exact: true }).click();
    await page.getByRole('button', { name: 'Resume', exact: true }).waitFor();
    assert.equal((await rig.http.get(`/api/v1/webhooks/${id}`).set(org.auth)).body.paused, true);

    for (const n of [1, 2, 3]) await publish(n);
    await waitFor(async () => (await rig.http.get(`/api/v1/webhooks/${id}/backlog`).set(org.auth)).body.pending === 3 || null, 20_000);
    await page.getByRole('button', { name: 'Refresh settings' }).click();
    await page.getByText('3 pending').waitFor();
    const backlog = (await rig.http.get(`/api/v1/webhooks/${id}/backlog`).set(org.auth)).body;
    assert.ok(backlog.oldestAt, 'the backlog says since when');
    await page.locator(`time[datetime="${backlog.oldestAt}"]`).first().waitFor();
    await page.getByText('paused', { exact: true }).first().waitFor();
    await c.assertAccessible('paused webhook');
    assert.equal(rx.at('/paused').length, 0, 'nothing is sent while paused');

    await page.getByRole('button', { name: 'Resume', exact: true }).click();
    await page.getByRole('button', { name: 'Pause', exact: true }).waitFor();
    await waitFor(() => rx.at('/paused').length === 3 || null, 20_000);
    assert.deepEqual(
      rx.at('/paused').map((r) => (JSON.parse(r.body) as { data: { messageId: string } }).data.messageId),
      ['msg-1', 'msg-2', 'msg-3'],
      'drained in log order',
    );
    await waitFor(async () => (await rig.http.get(`/api/v1/webhooks/${id}/backlog`).set(org.auth)).body.pending === 0 || null, 10_000);
    await page.getByRole('button', { name: 'Refresh settings' }).click();
    await page.getByText('0 pending').waitFor();

    // The same controls by keyboard: Tab to Pause, Enter; Tab to Refresh settings, Enter.
    await c.tabTo(/^Pause$/);
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Resume', exact: true }).waitFor();
    await c.tabTo(/^Refresh settings$/);
    await page.keyboard.press('Enter');
    await page.getByText('0 pending').waitFor();
    await c.tabTo(/^Resume$/);
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Pause', exact: true }).waitFor();
    assert.equal((await rig.http.get(`/api/v1/webhooks/${id}`).set(org.auth)).body.paused, false);
    await rig.http.delete(`/api/v1/webhooks/${id}`).set(org.auth).expect(204);
  });

  test('a failing receiver: the page shows the circuit open, the failure count and the last failure', async () => {
    const hook = await rig.http
      .post('/api/v1/webhooks')
      .set(org.auth)
      .send({
        url: `${rx.url}/down`,
        events: ['message.sent'],
        description: 'failing receiver',
        retry: { maxAttempts: 1 },
        circuitBreaker: { failureThreshold: 2, probeIntervalMs: 600_000 },
      })
      .expect(201);
    const id = hook.body.id as string;
    for (const n of [4, 5]) await publish(n);
    const health = await waitFor(async () => {
      const h = (await rig.http.get(`/api/v1/webhooks/${id}`).set(org.auth)).body.health;
      return h.state === 'circuit_open' ? h : null;
    }, 20_000);
    await c.go(`#/webhooks/${id}`);
    await page.locator('.kv').getByText('circuit open', { exact: true }).waitFor();
    await page.getByText(`${health.consecutiveFailures} consecutive failure(s)`).waitFor();
    await page.locator(`time[datetime="${health.lastFailureAt}"]`).first().waitFor();
    await page.getByText('opens after 2 consecutive failures, probes every 10 min 0 s').waitFor();
    await c.assertAccessible('webhook with an open circuit');
    await c.screenshot('webhook-health');

    await c.go('#/webhooks');
    const row = page.getByRole('table', { name: 'Webhooks' }).getByRole('row').filter({ hasText: 'failing receiver' });
    await row.getByText('circuit open').waitFor();
    await rig.http.delete(`/api/v1/webhooks/${id}`).set(org.auth).expect(204);
  });

  test('a PagerDuty-format webhook: routing key required beside its field, key masked on the page, the message links to the event page', async () => {
    rx.on('/pd', () => ({ status: 202, body: '{"status":"success"}' }));
    await c.go('#/webhooks/new');
    await page.getByRole('checkbox', { name: 'error.occurred' }).check();
    await page.getByLabel('Endpoint URL').fill(`${rx.url}/pd`);
    await page.getByLabel('Body format').selectOption('pagerduty');
    await page.getByRole('button', { name: 'Create webhook' }).click();
    await page
      .locator('.field[data-field="routingKey"] .field-error')
      .filter({ hasText: /required for format "pagerduty"/ })
      .waitFor();
    await page.getByLabel('PagerDuty routing key').fill('R0UTINGKEY1234567890abcdef');
    await page.getByLabel('PagerDuty severity').selectOption('critical');
    await page.getByRole('button', { name: 'Create webhook' }).click();
    await page.getByRole('heading', { name: 'Webhook created' }).waitFor();
    const id = await createdId();
    await page.getByText('routing key R0UTING…cdef').waitFor();
    await page.getByText('severity critical').waitFor();

    const ev = (
      await rig.http
        .post('/api/v1/events')
        .set(org.auth)
        .send({ type: 'error.occurred', data: { errorId: 'err-9', type: 'processing', message: 'Model timeout', severity: 'high' } })
        .expect(202)
    ).body as { id: string };
    const body = (await waitFor(() => {
      const got = rx.at('/pd')[0];
      return got ? (JSON.parse(got.body) as { routing_key: string; links: Array<{ href: string }> }) : null;
    }, 15_000))!;
    assert.equal(body.routing_key, 'R0UTINGKEY1234567890abcdef');
    assert.equal(body.links[0].href, `${rig.url}/admin/#/events/${ev.id}`);
    await page.goto(body.links[0].href);
    await page.getByRole('heading', { name: `Event ${ev.id}` }).waitFor();
    await page.getByText('Model timeout').waitFor();
    await rig.http.delete(`/api/v1/webhooks/${id}`).set(org.auth).expect(204);
  });

  test('a Redis-stream destination: created in the form, credentials masked everywhere, transport shown, events arrive', async () => {
    const url = `redis://default:hunter2-pw@127.0.0.1:${target.port}/0?stream=console:{type}`;
    await c.go('#/webhooks/new');
    await page.getByRole('checkbox', { name: 'message.sent' }).check();
    await page.getByLabel('Endpoint URL').fill(url);
    await page.getByLabel('Description').fill('redis stream');
    await page.getByRole('button', { name: 'Create webhook' }).click();
    await page.getByRole('heading', { name: 'Webhook created' }).waitFor();
    const id = await createdId();
    const masked = (await rig.http.get(`/api/v1/webhooks/${id}`).set(org.auth).expect(200)).body.url as string;
    assert.ok(!masked.includes('hunter2'), masked);
    assert.match(masked, /^redis:\/\/default:\*\*\*@127\.0\.0\.1:/);
    await page.locator('.kv').getByText(masked, { exact: true }).waitFor();
    await page.locator('.kv .chip').getByText('redis', { exact: true }).waitFor();
    assert.ok(!(await page.content()).includes('hunter2'), 'the password is nowhere in the page');

    await c.go('#/webhooks');
    const row = page.getByRole('table', { name: 'Webhooks' }).getByRole('row').filter({ hasText: 'redis stream' });
    await row.locator('.chip').getByText('redis', { exact: true }).waitFor();
    assert.ok(!(await page.content()).includes('hunter2'));
    await c.assertAccessible('webhooks with a redis destination');

    // Every other transport: the list shows it, the credentials never reach the page.
    const others = {
      amqp: 'amqp://guest:amqp-pw-1@127.0.0.1:5672/%2F?exchange=console&routingKey={type}',
      nats: 'nats://natsuser:nats-pw-2@127.0.0.1:4222?subject=console.{type}',
      mqtt: 'mqtt://mqttuser:mqtt-pw-3@127.0.0.1:1883?topic=console/{type}',
      smtp: 'smtp://mailer:smtp-pw-4@127.0.0.1:2525?from=a@example.com&to=b@example.com',
    };
    const otherIds: string[] = [];
    for (const [transport, u] of Object.entries(others)) {
      // A type nobody publishes here: nothing is delivered to these brokers.
      const r = await rig.http
        .post('/api/v1/webhooks')
        .set(org.auth)
        .send({ url: u, events: ['companion.deleted'], description: `${transport} destination` })
        .expect(201);
      otherIds.push(r.body.id as string);
    }
    await c.go('#/webhooks');
    const table = page.getByRole('table', { name: 'Webhooks' });
    for (const transport of Object.keys(others))
      await table
        .getByRole('row')
        .filter({ hasText: `${transport} destination` })
        .locator('.chip')
        .getByText(transport, { exact: true })
        .waitFor();
    const html = await page.content();
    for (const secret of ['amqp-pw-1', 'nats-pw-2', 'mqtt-pw-3', 'smtp-pw-4']) assert.ok(!html.includes(secret), `${secret} in the page`);
    await c.go(`#/webhooks/${otherIds[0]}`);
    await page
      .locator('.kv')
      .getByText(/^amqp:\/\/guest:\*\*\*@127\.0\.0\.1:5672/)
      .waitFor();
    await c.assertAccessible('amqp destination');
    for (const otherId of otherIds) await rig.http.delete(`/api/v1/webhooks/${otherId}`).set(org.auth).expect(204);

    const eventId = await publish(6);
    const r = new Redis(target.url);
    try {
      await waitFor(
        async () => (await r.xrange('console:message.sent', '-', '+')).some(([, f]) => f.join(' ').includes(eventId)) || null,
        15_000,
      );
    } finally {
      r.disconnect();
    }
  });
});
