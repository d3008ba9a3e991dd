import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createOrg, startTestApp, type TestApp, type TestOrg } from '../support/launcher.js';
import { Receiver } from '../support/receiver.js';
import { waitFor } from '../support/time.js';
import { hookFor } from '../webhooks/fixtures.js';
import { historyOf, sampleEvent, setLimits, type Envelope } from './helpers.js';

const QUOTA_TYPES = new Set(['quota.warning', 'quota.exceeded']);

async function publishN(app: TestApp, org: TestOrg, n: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < n; i++) statuses.push((await app.http.post('/api/v1/events').set(org.auth).send(sampleEvent(i))).status);
  return statuses;
}

/** Waits until the history writer has copied `count` events of the organization, then returns them oldest first. */
async function settledHistory(app: TestApp, org: TestOrg, count: number): Promise<Envelope[]> {
  const events = await waitFor(async () => {
    const all = await historyOf(app, org);
    return all.length >= count ? all : null;
  });
  return events as Envelope[];
}

const secondsUntil = (ms: number) => Math.ceil((ms - Date.now()) / 1000);

describe('quotas and rate limits', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(() => app.close());

  test('monthly quota: quota.warning at 80 % and quota.exceeded at 100 % once each, then 429 with Retry-After; other organizations unaffected', async () => {
    const [a, b] = [await createOrg(app), await createOrg(app)];
    await setLimits(app, a.id, { eventsPerMonth: 10 });
    assert.deepEqual(await publishN(app, a, 10), Array(10).fill(202), 'system events are not counted against the quota');
    const refused = await app.http.post('/api/v1/events').set(a.auth).send(sampleEvent()).expect(429);
    assert.equal(refused.body.error.code, 'quota_exceeded');
    const now = new Date();
    const monthEnd = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
    assert.ok(
      Math.abs(Number(refused.headers['retry-after']) - secondsUntil(monthEnd)) <= 2,
      `Retry-After ${refused.headers['retry-after']}`,
    );
    assert.deepEqual(
      {
        metric: refused.body.error.details[0].metric,
        limit: refused.body.error.details[0].limit,
        current: refused.body.error.details[0].current,
      },
      { metric: 'events_per_month', limit: 10, current: 10 },
    );
    const batch = await app.http
      .post('/api/v1/events/batch')
      .set(a.auth)
      .send({ events: [sampleEvent(1), sampleEvent(2)] })
      .expect(429);
    assert.equal(batch.body.error.code, 'quota_exceeded');
    assert.deepEqual(await publishN(app, b, 15), Array(15).fill(202));

    const events = await settledHistory(app, a, 12);
    const types = events.map((e) => e.type);
    const expected = [
      ...Array(8).fill('companion.activated'),
      'quota.warning',
      'companion.activated',
      'companion.activated',
      'quota.exceeded',
    ];
    assert.deepEqual(types, expected, 'each announcement follows the event that crossed the threshold, once');
    const [warning, exceeded] = events.filter((e) => QUOTA_TYPES.has(e.type));
    assert.deepEqual(
      { ...warning.data, timestamp: undefined },
      { organizationId: a.id, metric: 'events_per_month', current: 8, limit: 10, percentage: 80, timestamp: undefined },
    );
    assert.deepEqual(
      { ...exceeded.data, timestamp: undefined },
      { organizationId: a.id, metric: 'events_per_month', limit: 10, action: 'blocked', timestamp: undefined },
    );
    assert.equal(warning.organizationId, a.id);
    const bEvents = await settledHistory(app, b, 15);
    assert.ok(bEvents.every((e) => !QUOTA_TYPES.has(e.type)));
  });

  test('a batch that would pass the limit is refused whole and stores nothing; the first refusal announces quota.exceeded once', async () => {
    const org = await createOrg(app);
    await setLimits(app, org.id, { eventsPerMonth: 10 });
    const tooMany = Array.from({ length: 12 }, (_, i) => sampleEvent(i));
    const refused = await app.http.post('/api/v1/events/batch').set(org.auth).send({ events: tooMany }).expect(429);
    assert.equal(refused.body.error.details[0].requested, 12);
    assert.equal(refused.body.error.details[0].current, 0);
    const ok = await app.http
      .post('/api/v1/events/batch')
      .set(org.auth)
      .send({ events: tooMany.slice(0, 10) })
      .expect(202);
    assert.equal(ok.body.results.filter((r: { id?: string }) => r.id).length, 10);
    await app.http.post('/api/v1/events').set(org.auth).send(sampleEvent()).expect(429);
    const events = await settledHistory(app, org, 12);
    assert.deepEqual(
      events.filter((e) => QUOTA_TYPES.has(e.type)).map((e) => [e.type, e.data.metric, e.data.current ?? e.data.action]),
      [
        ['quota.exceeded', 'events_per_month', 'blocked'],
        ['quota.warning', 'events_per_month', 10],
      ],
    );
    assert.equal(events.filter((e) => e.type === 'companion.activated').length, 10);
  });

  test('rate limit per minute under concurrency: exactly the limit admitted, 429 rate_limited with Retry-After to the minute end, announced once', async () => {
    if (60_000 - (Date.now() % 60_000) < 12_000) await new Promise((r) => setTimeout(r, 60_000 - (Date.now() % 60_000) + 50));
    const org = await createOrg(app);
    await setLimits(app, org.id, { eventsPerMinute: 20 });
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) => app.http.post('/api/v1/events').set(org.auth).send(sampleEvent(i))),
    );
    const minuteEnd = (Math.floor(Date.now() / 60_000) + 1) * 60_000;
    assert.equal(responses.filter((r) => r.status === 202).length, 20);
    const limited = responses.filter((r) => r.status === 429);
    assert.equal(limited.length, 30);
    for (const r of limited) {
      assert.equal(r.body.error.code, 'rate_limited');
      const retryAfter = Number(r.headers['retry-after']);
      assert.ok(retryAfter >= 1 && retryAfter <= 60 && Math.abs(retryAfter - secondsUntil(minuteEnd)) <= 2, `Retry-After ${retryAfter}`);
    }
    const events = await settledHistory(app, org, 22);
    assert.deepEqual(
      events.filter((e) => QUOTA_TYPES.has(e.type)).map((e) => [e.type, e.data.metric, e.data.action ?? e.data.current]),
      [
        ['quota.warning', 'events_per_minute', 16],
        ['quota.exceeded', 'events_per_minute', 'throttled'],
      ],
    );
  });

  test('system events are published even when the quota is used up: an exhausted delivery still reports error.occurred', async () => {
    const rx = await Receiver.start();
    try {
      const hook = await hookFor(app, rx.url, { events: ['companion.activated'], retry: { maxAttempts: 1 } });
      rx.on(hook.path, () => ({ status: 500 }));
      await setLimits(app, hook.org.id, { eventsPerMonth: 2 });
      assert.deepEqual(await publishN(app, hook.org, 3), [202, 202, 429]);
      const errors = await waitFor(async () => {
        const found = await historyOf(app, hook.org, '&eventType=error.occurred');
        return found.length === 2 ? found : null;
      }, 15_000);
      assert.ok(errors!.every((e) => e.data.severity === 'high' && e.data.type === 'integration'));
      await app.http.post('/api/v1/events').set(hook.org.auth).send(sampleEvent()).expect(429);
    } finally {
      await rx.close();
    }
  });

  test('a limit change applies at once on every process sharing the Redis (cached limits dropped through a channel)', async () => {
    const other = await startTestApp({ redis: app.redis, databaseUrl: app.databaseUrl });
    try {
      const org = await createOrg(app);
      const viaOther = () => other.http.post('/api/v1/events').set(org.auth).send(sampleEvent());
      assert.equal((await viaOther()).status, 202, 'the other process has cached "no limits"');
      await setLimits(app, org.id, { eventsPerMonth: 1 });
      const changedAt = Date.now();
      await waitFor(async () => (await viaOther()).status === 429, 2_000, 20);
      assert.ok(Date.now() - changedAt < 2_000, 'well before the 5 s cache expiry');
      await setLimits(app, org.id, {});
      await waitFor(async () => (await viaOther()).status === 202, 2_000, 20);
    } finally {
      await other.close();
    }
  });
});
