import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { exampleEvents } from '../../src/events/catalog.js';
import { createOrg, databases, startTestApp, type TestApp, type TestOrg } from '../support/launcher.js';
import { waitFor } from '../support/time.js';

interface Env {
  id: string;
  type: string;
  organizationId: string;
  data: Record<string, unknown>;
}

async function publishMany(app: TestApp, org: TestOrg, n: number): Promise<string[]> {
  const events = Array.from({ length: n }, (_, i) =>
    i % 3 === 0
      ? {
          type: 'message.sent',
          data: { ...exampleEvents['message.sent'], messageId: `m${i}`, companionId: `comp-${i % 2}`, userId: `user-${i % 5}` },
        }
      : i % 3 === 1
        ? {
            type: 'chat.started',
            data: { ...exampleEvents['chat.started'], sessionId: `s${i}`, companionId: `comp-${i % 2}`, userId: `user-${i % 5}` },
          }
        : { type: 'companion.activated', data: { companionId: `comp-${i % 2}`, previousStatus: 'idle' } },
  );
  const res = await app.http.post('/api/v1/events/batch').set(org.auth).send({ events }).expect(202);
  return res.body.results.map((r: { id: string }) => r.id);
}

async function allPages(app: TestApp, org: TestOrg, query: string, limit: number): Promise<Env[]> {
  const out: Env[] = [];
  let cursor: string | null = null;
  do {
    const res: { body: { events: Env[]; nextCursor: string | null } } = await app.http
      .get(`/api/v1/events/history?limit=${limit}${query}${cursor ? `&cursor=${cursor}` : ''}`)
      .set(org.auth)
      .expect(200);
    out.push(...res.body.events);
    assert.ok(res.body.events.length <= limit);
    cursor = res.body.nextCursor;
  } while (cursor);
  return out;
}

for (const db of databases()) {
  describe(`history on ${db}`, () => {
    let app: TestApp;
    let a: TestOrg;
    let b: TestOrg;
    let idsA: string[];
    before(async () => {
      app = await startTestApp({ db });
      a = await createOrg(app, 'A');
      b = await createOrg(app, 'B');
      idsA = await publishMany(app, a, 300);
      await publishMany(app, b, 30);
      await waitFor(async () => (await allPages(app, a, '', 1000)).length === 300, 15_000, 100);
    });
    after(() => app.close());

    test('pages cross boundaries newest first with no gap and no duplicate', async () => {
      const all = await allPages(app, a, '', 37);
      assert.deepEqual(
        all.map((e) => e.id),
        [...idsA].reverse(),
      );
    });

    test('filters return exactly the matching events in order', async () => {
      const byType = await allPages(app, a, '&eventType=message.sent', 20);
      assert.equal(byType.length, 100);
      assert.ok(byType.every((e) => e.type === 'message.sent'));
      const byCompanion = await allPages(app, a, '&companionId=comp-1', 50);
      assert.equal(byCompanion.length, 150);
      assert.ok(byCompanion.every((e) => e.data.companionId === 'comp-1'));
      const byUser = await allPages(app, a, '&userId=user-3&eventType=chat.started', 7);
      const expected = idsA.filter((_, i) => i % 3 === 1 && i % 5 === 3).reverse();
      assert.deepEqual(
        byUser.map((e) => e.id),
        expected,
      );
      const sorted = byUser.map((e) => e.id);
      assert.deepEqual(sorted, [...sorted].sort().reverse());
    });

    test('time range: from/to bound the result', async () => {
      const all = await allPages(app, a, '', 1000);
      const mid = await app.http
        .get(`/api/v1/events/history?limit=1000&from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z`)
        .set(a.auth)
        .expect(200);
      assert.equal(mid.body.events.length, 0);
      const now = await app.http
        .get(`/api/v1/events/history?limit=1000&from=${new Date(Date.now() - 3600_000).toISOString()}`)
        .set(a.auth)
        .expect(200);
      assert.equal(now.body.events.length, all.length);
    });

    test('tenancy: B sees only its own events; A ids answer 404 to B; filters cannot escape', async () => {
      const bAll = await allPages(app, b, '', 1000);
      assert.equal(bAll.length, 30);
      assert.ok(bAll.every((e) => e.organizationId === b.id));
      await app.http.get(`/api/v1/events/${idsA[0]}`).set(b.auth).expect(404);
      const own = await app.http.get(`/api/v1/events/${idsA[0]}`).set(a.auth).expect(200);
      assert.equal(own.body.id, idsA[0]);
      const sneaky = await app.http.get(`/api/v1/events/history?organizationId=${a.id}`).set(b.auth);
      assert.equal(sneaky.status, 400, 'unknown filters are refused, not silently widened');
      const cursorEscape = await allPages(app, b, `&companionId=comp-1`, 1000);
      assert.ok(cursorEscape.every((e) => e.organizationId === b.id));
    });

    test('bad queries: limit > 1000, bad cursor, bad date → 400 naming the field', async () => {
      for (const q of ['limit=1001', 'cursor=abc', 'from=yesterday']) {
        const r = await app.http.get(`/api/v1/events/history?${q}`).set(a.auth).expect(400);
        assert.ok(
          r.body.error.details.some((d: { field: string }) => q.startsWith(d.field)),
          JSON.stringify(r.body),
        );
      }
    });
  });

  describe(`restart on ${db}`, () => {
    test('publish, stop the app, start again on the same data: history intact, publishing continues', async () => {
      const first = await startTestApp({ db });
      const org = await createOrg(first);
      const ids = await publishMany(first, org, 40);
      await waitFor(async () => (await allPages(first, org, '', 1000)).length === 40, 10_000, 100);
      await first.stop();
      const second = await startTestApp({ db, redis: first.redis, databaseUrl: first.databaseUrl });
      try {
        const more = await publishMany(second, org, 5);
        const all = await waitFor(async () => {
          const got = await allPages(second, org, '', 1000);
          return got.length === 45 ? got : null;
        });
        assert.deepEqual(
          all!.map((e) => e.id),
          [...ids, ...more].reverse(),
        );
      } finally {
        await second.stop();
        await first.close();
      }
    });
  });
}
