/// <reference lib="dom" />
// Events through the console, in headless Chromium: the event page, history search with filters, metrics against
// the API's numbers, the live view (arrival, a reconnect across an app restart, 1,000 events/s).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Receiver } from '../support/receiver.js';
import { sleep, waitFor } from '../support/time.js';
import {
  message,
  signedInConsole,
  skipWithoutBrowser as skip,
  type ConsolePage,
  type ConsoleRig,
  type Org,
  type SignedInConsole,
} from './browser-support.js';

const chat = (n: number, companionId: string) => ({ sessionId: `sess-${n}`, companionId, userId: 'user-1', context: {} });

/** The live view's cap on rows (MAX_EVENTS in admin/js/views/live.js). */
const LIVE_CAP = 500;

interface Probe {
  seen: Record<string, number>;
  mutations: number;
  added: number;
  longTasks: number[];
  frames: number;
}

describe('console in a browser: events, history, metrics, live view', { skip }, () => {
  let rig: ConsoleRig;
  let org: Org;
  let rx: Receiver;
  let c: ConsolePage;
  let page: ConsolePage['page'];
  let ui: SignedInConsole;
  before(async () => {
    ui = await signedInConsole();
    ({ rig, org, rx, c, page } = ui);
    rx.on('/ok', () => ({ status: 200, body: 'ok' }));
    rx.on('/fail', () => ({ status: 500, body: 'nope' }));
  });
  after(() => ui?.close());
  const publish = (type: string, data: object): Promise<string> => ui.publish(type, data);

  test('the event page: opened directly by its address, envelope, data and deliveries shown; history rows link to it', async () => {
    // Two webhooks take this event (and only it: the filter); one answers 200, the other 500 with no retry.
    const hook = async (path: string) =>
      (
        await rig.http
          .post('/api/v1/webhooks')
          .set(org.auth)
          .send({
            url: `${rx.url}${path}`,
            events: ['message.sent'],
            filters: { companionId: ['comp-event-page'] },
            retry: { maxAttempts: 1 },
          })
          .expect(201)
      ).body.id as string;
    const okHook = await hook('/ok');
    const failHook = await hook('/fail');
    const id = await publish('message.sent', message(1, 'comp-event-page'));
    await waitFor(async () => {
      const r = await rig.http.get(`/api/v1/events/${id}/deliveries`).set(org.auth).expect(200);
      const statuses = (r.body.deliveries as Array<{ status: string }>).map((d) => d.status).sort();
      return statuses.join() === 'failed,success' || null;
    }, 20_000);
    await page.goto(`${rig.url}/admin/#/events/${id}`);
    await page.getByRole('heading', { name: `Event ${id}` }).waitFor();
    const kv = page.locator('.kv');
    await kv.getByRole('link', { name: 'message.sent' }).waitFor();
    await kv.getByText(org.id, { exact: true }).waitFor();
    const data = JSON.parse(await page.getByLabel('Event data').innerText()) as Record<string, unknown>;
    assert.deepEqual({ ...data, timestamp: undefined }, { ...message(1, 'comp-event-page'), timestamp: undefined });

    // One row per webhook, with its status and HTTP code; the delivery link opens the delivery page.
    const table = page.getByRole('table', { name: 'Deliveries of this event' });
    const row = (webhookId: string) => table.locator('tbody tr').filter({ has: page.getByRole('link', { name: webhookId, exact: true }) });
    await row(okHook).waitFor();
    assert.equal(await table.locator('tbody tr').count(), 2);
    assert.equal(await row(okHook).locator('.badge').innerText(), 'success');
    assert.equal(await row(failHook).locator('.badge').innerText(), 'failed');
    assert.match(await row(okHook).innerText(), /\b200\b/);
    assert.match(await row(failHook).innerText(), /\b500\b/);
    assert.match(await row(failHook).innerText(), new RegExp(`${rx.url}/fail`));
    await c.assertAccessible('event');
    await c.screenshot('event');
    const failedDelivery = await row(failHook).getByRole('link', { name: /^del_/ }).innerText();
    await row(failHook).getByRole('link', { name: failedDelivery }).click();
    await page.waitForFunction((h) => location.hash === h, `#/webhooks/${failHook}/deliveries/${failedDelivery}`);
    await page.getByRole('heading', { name: `Delivery ${failedDelivery}` }).waitFor();
    await page.getByText('nope').first().waitFor();

    await c.go('#/events/evt_00000000000000000000000000');
    // The event and its deliveries: both a 404.
    await page
      .getByRole('alert')
      .filter({ hasText: /HTTP 404/ })
      .nth(1)
      .waitFor();

    // From the history by keyboard: Tab to the row's Open link, Enter.
    await c.go('#/history');
    await page.getByRole('link', { name: `Open event ${id}` }).waitFor();
    await c.tabTo(new RegExp(`^Open event ${id}$`));
    await page.keyboard.press('Enter');
    await page.waitForFunction((h) => location.hash === h, `#/events/${id}`);
    await page.getByLabel('Event data').waitFor();
  });

  test('history search with type, companion and time range: the rows are the API’s answer to the same query', async () => {
    const fromMs = Math.floor(Date.now() / 1000) * 1000 - 1000;
    const ids = {
      a1: await publish('message.sent', message(2, 'comp-hist-a')),
      b1: await publish('message.sent', message(3, 'comp-hist-b')),
      chat: await publish('chat.started', chat(1, 'comp-hist-a')),
      a2: await publish('message.sent', message(4, 'comp-hist-a')),
    };
    await waitFor(async () => {
      const r = await rig.http.get('/api/v1/events/history?companionId=comp-hist-a').set(org.auth);
      return r.body.events.length === 3 || null;
    }, 20_000);
    // datetime-local values in the browser's zone, to the second (what the form sends).
    const local = (ms: number) =>
      page.evaluate((t) => {
        const d = new Date(t);
        const p = (n: number) => String(n).padStart(2, '0');
        return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
      }, ms);
    const toMs = Math.ceil(Date.now() / 1000) * 1000 + 60_000;

    await c.go('#/history');
    await page.getByLabel('Event type').selectOption('message.sent');
    await page.getByLabel('Companion id').fill('comp-hist-a');
    await page.getByLabel('From').fill(await local(fromMs));
    await page.getByLabel('To').fill(await local(toMs));
    await page.getByRole('button', { name: 'Search' }).click();
    const rows = page.getByRole('list', { name: 'Events, newest first' }).locator(':scope > li');
    await page.waitForFunction(
      (want) => document.querySelectorAll('ol.event-log > li').length === want && !document.querySelector('[aria-busy="true"]'),
      2,
    );
    const shown = await rows.evaluateAll((lis) => lis.map((li) => (li as HTMLElement).dataset.id));
    const api = await rig.http
      .get('/api/v1/events/history')
      .query({
        eventType: 'message.sent',
        companionId: 'comp-hist-a',
        from: new Date(fromMs).toISOString(),
        to: new Date(toMs).toISOString(),
        limit: 50,
      })
      .set(org.auth)
      .expect(200);
    assert.deepEqual(
      shown,
      (api.body.events as Array<{ id: string }>).map((e) => e.id),
    );
    assert.deepEqual(shown, [ids.a2, ids.a1], 'newest first, only message.sent of comp-hist-a');

    // A range that ends before the events: none.
    await page.getByLabel('To').fill(await local(fromMs));
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('No event matches.').waitFor();
    await c.assertAccessible('history');
  });

  test('metrics: the figures shown are the API’s numbers', async () => {
    const admin = async (url: string, extra: object = {}) =>
      (
        await rig.http
          .post('/api/v1/webhooks')
          .set(org.auth)
          .send({ url, events: ['chat.started'], retry: { maxAttempts: 1 }, ...extra })
          .expect(201)
      ).body.id as string;
    const counted = async () => {
      const r = (await rig.http.get('/api/v1/events/metrics').set(org.auth).expect(200)).body;
      return { total: r.deliveryRate.successful + r.deliveryRate.failed, body: r };
    };
    const before = (await counted()).total; // the event page's deliveries, finished before this test
    const ok = await admin(`${rx.url}/ok`);
    const bad = await admin(`${rx.url}/fail`);
    for (const n of [10, 11, 12]) await publish('chat.started', chat(n, 'comp-m'));
    const finished = async (id: string, status: string) =>
      (await rig.http.get(`/api/v1/webhooks/${id}/deliveries?status=${status}`).set(org.auth)).body.deliveries.length === 3;
    await waitFor(async () => ((await finished(ok, 'success')) && (await finished(bad, 'failed'))) || null, 20_000);
    // The counters behind the metrics are written with each outcome: wait until the API counts all six.
    const m = await waitFor(async () => {
      const c6 = await counted();
      return c6.total >= before + 6 ? c6.body : null;
    }, 10_000);

    await c.go('#/metrics');
    const stat = (label: string) => page.locator('.stat').filter({ has: page.locator('.stat-label', { hasText: label }) });
    await stat('Delivery success').waitFor();
    const expected = await page.evaluate(async (metrics) => {
      const formatModule = '/admin/js/lib/format.js'; // the console's own formatting, as the page loaded it
      const f = (await import(formatModule)) as typeof import('../../admin/js/lib/format.js');
      return {
        success: f.formatPercent(f.successPercent(metrics.deliveryRate)),
        note: `${f.formatNumber(metrics.deliveryRate.successful, 0)} ok · ${f.formatNumber(metrics.deliveryRate.failed, 0)} failed`,
        p50: f.formatDuration(metrics.latency.p50),
        p95: f.formatDuration(metrics.latency.p95),
        p99: f.formatDuration(metrics.latency.p99),
        peak: f.formatNumber(metrics.throughput.peakThroughput, 0),
      };
    }, m);
    const value = (label: string) => stat(label).locator('.stat-value').innerText();
    assert.deepEqual(
      {
        success: await value('Delivery success'),
        note: await stat('Delivery success').locator('.stat-note').innerText(),
        p50: await value('Latency p50'),
        p95: await value('Latency p95'),
        p99: await value('Latency p99'),
        peak: await value('Peak deliveries / s'),
      },
      expected,
    );
    // These three each way, and the event page test's one each way.
    assert.equal(m.deliveryRate.successful, 4);
    assert.equal(m.deliveryRate.failed, 4);
    assert.equal(await page.getByRole('table', { name: 'Finished deliveries by transport' }).count(), 0, 'HTTP only: no transport table');
    const byStatus = page.getByRole('table', { name: 'Errors by status code' });
    assert.deepEqual(await byStatus.locator('tbody tr').first().locator('td').allInnerTexts(), [
      '500',
      String(m.errors.byStatusCode['500']),
    ]);
    await c.assertAccessible('metrics');
    // The picture shows the delivery figures (below the health checks).
    await page.getByRole('heading', { name: 'Deliveries', level: 2 }).evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await c.screenshot('metrics');
    for (const id of [ok, bad]) await rig.http.delete(`/api/v1/webhooks/${id}`).set(org.auth).expect(204);
  });

  test('metrics: finished deliveries by transport, as a table once a transport other than HTTP has some', async () => {
    const hook = (
      await rig.http
        .post('/api/v1/webhooks')
        .set(org.auth)
        .send({ url: `${rig.redis.url}/0?stream=console-transport`, events: ['chat.ended'], retry: { maxAttempts: 1 } })
        .expect(201)
    ).body.id as string;
    await publish('chat.ended', { sessionId: 'sess-t', companionId: 'comp-t', userId: 'user-1', duration: 1, messageCount: 1 });
    const m = await waitFor(async () => {
      const r = (await rig.http.get('/api/v1/events/metrics').set(org.auth).expect(200)).body;
      return r.byTransport.redis?.successful === 1 ? r : null;
    }, 20_000);
    await c.go('#/metrics');
    const table = page.getByRole('table', { name: 'Finished deliveries by transport' });
    await table.waitFor();
    const rows = await table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => Array.from(tr.children, (td) => td.textContent)));
    const byTransport = m.byTransport as Record<string, { successful: number; failed: number }>;
    assert.deepEqual(
      rows.sort(),
      Object.entries(byTransport)
        .map(([t, n]) => [t, String(n.successful), String(n.failed)])
        .sort(),
    );
    assert.deepEqual(
      rows.find((r) => r[0] === 'redis'),
      ['redis', '1', '0'],
    );
    await c.assertAccessible('metrics with transports');
    await rig.http.delete(`/api/v1/webhooks/${hook}`).set(org.auth).expect(204);
  });

  /** Opens the live view with a probe: arrival times per event id, DOM mutations, long tasks, frames. */
  async function openLive(): Promise<void> {
    await c.go('#/live');
    await page.locator('.status-line .badge', { hasText: 'live' }).waitFor({ timeout: 15_000 });
    await page.evaluate(() => {
      const probe: Probe = { seen: {}, mutations: 0, added: 0, longTasks: [], frames: 0 };
      (globalThis as unknown as { probe: Probe }).probe = probe;
      const list = document.querySelector('ol.event-log')!;
      new MutationObserver((records) => {
        const now = Date.now();
        for (const r of records) {
          if (!r.addedNodes.length) continue;
          probe.mutations += 1;
          for (const n of Array.from(r.addedNodes)) {
            probe.added += 1;
            const id = (n as HTMLElement).dataset?.id;
            if (id && !(id in probe.seen)) probe.seen[id] = now;
          }
        }
      }).observe(list, { childList: true });
      new PerformanceObserver((l) => l.getEntries().forEach((e) => probe.longTasks.push(e.duration))).observe({ type: 'longtask' });
      const frame = () => {
        probe.frames += 1;
        requestAnimationFrame(frame);
      };
      requestAnimationFrame(frame);
    });
  }
  const probe = () => page.evaluate(() => (globalThis as unknown as { probe: Probe }).probe);

  test('live view: a published event appears (time measured), and a later one after the app restarts, no duplicate', async () => {
    await openLive();
    const t0 = Date.now();
    const first = await publish('message.sent', message(20));
    await page.locator(`ol.event-log > li[data-id="${first}"]`).waitFor({ timeout: 10_000 });
    const latency = (await probe()).seen[first] - t0;
    console.log(`# live view: publish → row in the DOM ${latency} ms`);
    assert.ok(latency < 5_000, `arrives (${latency} ms; the issue's target is 1 s, timing is not asserted on a shared machine)`);
    const more = [
      await publish('chat.started', chat(20, 'comp-7')),
      await publish('message.sent', message(22, 'comp-7')),
      await publish('chat.started', chat(21, 'comp-3')),
    ];
    await page.locator(`ol.event-log > li[data-id="${more[2]}"]`).waitFor();
    await c.assertAccessible('live');
    await page.locator(`ol.event-log > li[data-id="${more[1]}"] summary`).click();
    await c.screenshot('live');

    await rig.restart();
    const second = await publish('message.sent', message(21));
    await page.locator(`ol.event-log > li[data-id="${second}"]`).waitFor({ timeout: 60_000 });
    await page.locator('.status-line .badge', { hasText: 'live' }).waitFor();
    const ids = await page.locator('ol.event-log > li').evaluateAll((lis) => lis.map((li) => (li as HTMLElement).dataset.id));
    assert.equal(ids.filter((id) => id === first).length, 1, 'the event before the restart is shown once');
    assert.equal(new Set(ids).size, ids.length, 'no duplicate rows');
    assert.equal(ids[0], second, 'the new event on top');
  });

  test('live view at 1,000 events/s for 5 s: bounded rows, batched rendering, the page keeps answering', async () => {
    await openLive();
    // Same-run baseline: the page idle for 2 s (frames and long tasks without events).
    await sleep(2_000);
    const idle = await page.evaluate(() => {
      const p = (globalThis as unknown as { probe: Probe }).probe;
      const r = { fps: p.frames / 2, longTasks: p.longTasks.length, maxLongTaskMs: Math.round(Math.max(0, ...p.longTasks)) };
      Object.assign(p, { mutations: 0, added: 0, longTasks: [], frames: 0 });
      return r;
    });
    const before = await page.locator('ol.event-log > li').count();
    const BATCH = 100;
    const TICKS = 50; // every 100 ms: 5,000 events in ~5 s
    const started = Date.now();
    const posts: Promise<string>[] = [];
    const answers: number[] = [];
    let probing = true;
    const responsiveness = (async () => {
      while (probing) {
        const t = Date.now();
        await page.evaluate(() => document.querySelectorAll('ol.event-log > li').length);
        answers.push(Date.now() - t);
        await sleep(250);
      }
    })();
    for (let i = 0; i < TICKS; i++) {
      const at = started + i * 100;
      if (at > Date.now()) await sleep(at - Date.now());
      const events = Array.from({ length: BATCH }, (_, k) => ({ type: 'message.sent', data: message(1000 + i * BATCH + k) }));
      posts.push(
        rig.http
          .post('/api/v1/events/batch')
          .set(org.auth)
          .send({ events })
          .expect(202)
          .then((r) => (r.body.results as Array<{ id: string }>).at(-1)!.id),
      );
    }
    const lastIds = await Promise.all(posts);
    const publishSeconds = (Date.now() - started) / 1000;
    const last = lastIds.at(-1)!;
    await page.locator(`ol.event-log > li[data-id="${last}"]`).waitFor({ timeout: 60_000 });
    const drainedAt = Date.now();
    probing = false;
    await responsiveness;

    const p = await probe();
    const rows = await page.locator('ol.event-log > li').count();
    const counter = await page.locator('.status-line').innerText();
    const received = Number(/(\d+) received/.exec(counter)?.[1]);
    const seconds = (drainedAt - started) / 1000;
    const diag = {
      published: TICKS * BATCH,
      publishSeconds,
      secondsUntilLastShown: seconds,
      receivedByView: received,
      rows,
      domInsertions: p.mutations,
      rowsAdded: p.added,
      eventsPerInsertion: Math.round((p.added / Math.max(1, p.mutations)) * 10) / 10,
      longTasks: p.longTasks.length,
      maxLongTaskMs: Math.round(Math.max(0, ...p.longTasks)),
      fps: Math.round(p.frames / seconds),
      maxEvaluateMs: Math.max(...answers),
      idleBaseline: idle,
    };
    console.log(`# live view under load: ${JSON.stringify(diag)}`);
    assert.ok(received >= before + TICKS * BATCH, `every event reached the view (${counter})`);
    assert.ok(rows <= LIVE_CAP, `rows bounded by the cap: ${rows}`);
    assert.match(counter, new RegExp(`${LIVE_CAP} shown \\(max ${LIVE_CAP}\\)`));
    assert.ok(p.mutations * 5 < p.added, `rendering is batched: ${p.added} rows in ${p.mutations} insertions`);
    assert.ok(diag.maxEvaluateMs < 2_000, `the page answered within 2 s every time (max ${diag.maxEvaluateMs} ms)`);
  });
});
