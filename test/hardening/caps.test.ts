import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { keysetPage } from '../../src/common/keyset-page.js';
import { loadConfig } from '../../src/config/config.js';
import { RedisService } from '../../src/redis/redis.service.js';
import { LogReplay } from '../../src/realtime/log-replay.js';
import { ResumeBusyError, ResumeSlots } from '../../src/realtime/resume-slots.js';
import { createOrg, startTestApp, type TestApp, type TestOrg } from '../support/launcher.js';
import { Receiver } from '../support/receiver.js';
import { hookFor, publish } from '../webhooks/fixtures.js';
import { waitFor } from '../support/time.js';

const KiB = 1024;

describe('caps by bytes, replay locks and rates, resume filtering', () => {
  let app: TestApp;
  let rx: Receiver;
  let org: TestOrg;
  before(async () => {
    app = await startTestApp({
      env: {
        MAX_BODY_BYTES: String(200 * KiB),
        MAX_BATCH_BODY_BYTES: String(600 * KiB),
        PAGE_MAX_BYTES: String(64 * KiB),
        REPLAY_RATE_PER_MINUTE: '3',
      },
    });
    rx = await Receiver.start();
    org = await createOrg(app);
  });
  after(async () => {
    await app.close();
    await rx.close();
  });

  test('single and batch publish have their own body limits; a 413 names the one it hit', async () => {
    const big = (n: number) => ({
      type: 'message.sent',
      data: { messageId: 'm', companionId: 'c', userId: 'u', content: 'x'.repeat(n), role: 'user' },
    });
    const single = await app.http
      .post('/api/v1/events')
      .set(org.auth)
      .send(big(250 * KiB));
    assert.equal(single.status, 413, JSON.stringify(single.body).slice(0, 300));
    assert.equal(single.body.error.code, 'payload_too_large');
    assert.match(single.body.error.message, /MAX_BODY_BYTES/);
    const okBatch = await app.http
      .post('/api/v1/events/batch')
      .set(org.auth)
      .send({ events: [big(150 * KiB), big(150 * KiB)] });
    assert.equal(okBatch.status, 202, JSON.stringify(okBatch.body).slice(0, 300));
    const tooBig = await app.http
      .post('/api/v1/events/batch')
      .set(org.auth)
      .send({ events: [big(200 * KiB), big(200 * KiB), big(200 * KiB), big(100 * KiB)] });
    assert.equal(tooBig.status, 413);
    assert.match(tooBig.body.error.message, /MAX_BATCH_BODY_BYTES/);
    assert.equal(tooBig.body.error.details[0].setting, 'MAX_BATCH_BODY_BYTES');
  });

  test('a history page stops at PAGE_MAX_BYTES with a nextCursor; following it returns every event once', async () => {
    const o = await createOrg(app);
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await publish(app, o, 'message.sent', { content: `${i}`.repeat(30 * KiB) })).id);
    const pages: number[] = [];
    const seen: string[] = [];
    let cursor: string | null = null;
    await waitFor(async () => (await app.http.get('/api/v1/events/history?limit=100').set(o.auth)).body.events?.length > 0);
    await waitFor(async () => {
      const res = await app.http.get(`/api/v1/events/history?limit=1000`).set(o.auth);
      return res.body.events.length === 6 || res.body.nextCursor;
    });
    do {
      const res: { body: { events: { id: string }[]; nextCursor: string | null } } = await app.http
        .get(`/api/v1/events/history?limit=100${cursor ? `&cursor=${cursor}` : ''}`)
        .set(o.auth)
        .expect(200);
      assert.ok(Buffer.byteLength(JSON.stringify(res.body.events)) < 64 * KiB + 31 * KiB, 'a page ends once it reached the budget');
      pages.push(res.body.events.length);
      seen.push(...res.body.events.map((e: { id: string }) => e.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    assert.ok(pages.length >= 2 && pages.every((n) => n < 6), `pages: ${pages.join(',')}`);
    assert.deepEqual(seen, [...ids].reverse());
  });

  test('keysetPage: count limit and byte budget together, in chunks', async () => {
    const ds = app.running.app.get(RedisService); // any provider proves the app is up; the pager is tested on SQL rows
    assert.ok(ds);
    const { DataSource } = await import('typeorm');
    const data = app.running.app.get(DataSource);
    const org2 = await createOrg(app);
    for (let i = 0; i < 5; i++) await publish(app, org2, 'message.sent', { content: 'y'.repeat(10 * KiB) });
    await waitFor(
      async () =>
        (await data.query('SELECT COUNT(*) AS n FROM events WHERE organization_id = ?', [org2.id]).catch(() => [{ n: 0 }]))[0].n >= 5,
    );
    const qb = () => data.createQueryBuilder().select('e').from('events', 'e').where('e.organization_id = :o', { o: org2.id }) as never;
    const all = await keysetPage<{ id: string }, string>(qb(), 'e', 'ASC', 10, undefined, (r) => r.id, { maxBytes: 1_000_000, chunk: 2 });
    assert.equal(all.items.length, 5);
    assert.equal(all.nextCursor, null);
    const two = await keysetPage<{ id: string }, string>(qb(), 'e', 'ASC', 10, undefined, (r) => r.id, {
      maxBytes: 10,
      sizeOf: () => 5,
      chunk: 2,
    });
    assert.deepEqual(two.items, all.items.slice(0, 2));
    assert.equal(two.nextCursor, all.items[1]);
    const limited = await keysetPage<{ id: string }, string>(qb(), 'e', 'ASC', 3, undefined, (r) => r.id, {
      maxBytes: 1_000_000,
      chunk: 2,
    });
    assert.deepEqual([limited.items.length, limited.nextCursor], [3, all.items[2]]);
  });

  test('one range replay per webhook (409 replay_in_progress) and REPLAY_RATE_PER_MINUTE per organization (429 + Retry-After)', async () => {
    const hook = await hookFor(app, rx.url, { events: ['message.*'] });
    rx.on(hook.path, () => ({ status: 200 }));
    const range = { from: new Date(Date.now() - 60_000).toISOString(), to: new Date().toISOString() };
    const redis = app.running.app.get(RedisService);
    const lock = redis.keys.webhookReplayLock(hook.id, redis.keys.deploymentTag);
    await redis.client.set(lock, 'someone-else', 'PX', 10_000);
    const busy = await app.http.post(`/api/v1/webhooks/${hook.id}/replay`).set(hook.org.auth).send(range);
    assert.equal(busy.status, 409, JSON.stringify(busy.body));
    assert.equal(busy.body.error.code, 'replay_in_progress');
    assert.equal(await redis.client.get(lock), 'someone-else', 'a refused replay leaves the holder’s lock alone');
    await redis.client.del(lock);
    // The minute may roll over between requests: count refusals within one window.
    const statuses: number[] = [];
    let refusal: { status: number; headers: Record<string, string>; body: { error: { code: string } } } | undefined;
    for (let i = 0; i < 4 && !refusal; i++) {
      const res = await app.http.post(`/api/v1/webhooks/${hook.id}/replay`).set(hook.org.auth).send(range);
      statuses.push(res.status);
      if (res.status === 429) refusal = res as never;
    }
    assert.ok(refusal, `statuses: ${statuses.join(',')}`);
    assert.equal(refusal.body.error.code, 'rate_limited');
    assert.ok(Number(refusal.headers['retry-after']) >= 1 && Number(refusal.headers['retry-after']) <= 60);
    assert.equal(await redis.client.get(lock), null, 'the lock is released after each replay');
    const bulk = await app.http.post('/api/v1/dlq/retry').set(hook.org.auth).send({});
    if (statuses.length === 4 || new Date().getUTCSeconds() > 1)
      assert.equal(bulk.status, 429, 'bulk DLQ retry shares the organization’s rate');
    const other = await createOrg(app);
    const otherBulk = await app.http.post('/api/v1/dlq/retry').set(other.auth).send({});
    assert.equal(otherBulk.status, 202, 'another organization is not limited');
    assert.equal(otherBulk.body.truncated, false);
  });

  test('resume reads only its organization’s entries: another tenant’s unparseable data is never parsed', async () => {
    const a = await createOrg(app);
    const first = await publish(app, a, 'message.sent');
    const redis = app.running.app.get(RedisService);
    const sidOf = (id: string) => {
      const m = /^evt_(\d+)-(\d+)$/.exec(id);
      return m ? `${m[1]}-${m[2]}` : null;
    };
    const from = (await redis.client.xrange(redis.keys.eventLog(), '-', '+')).find(([, f]) => f.includes(a.id))?.[0] ?? sidOf(first.id);
    assert.ok(from);
    await redis.client.xadd(
      redis.keys.eventLog(),
      '*',
      'o',
      'org_someone_else',
      't',
      'message.sent',
      'ts',
      new Date().toISOString(),
      'd',
      '{not json',
    );
    const second = await publish(app, a, 'message.sent');
    const replay = app.running.app.get(LogReplay);
    const upTo = (await redis.client.xrevrange(redis.keys.eventLog(), '+', '-', 'COUNT', 1))[0][0];
    const got: string[] = [];
    for await (const page of replay.pages(a.id, from, upTo)) got.push(...page.map((e) => e.event.id));
    assert.deepEqual(got, [second.id]);
  });

  test('ResumeSlots: a bounded number run, a bounded queue waits, beyond it or after the wait: resume_busy', async () => {
    const config = { ...loadConfig({ NODE_ENV: 'test' }), maxConcurrentResumes: 2, resumeQueueMax: 1, resumeWaitMs: 200 };
    const slots = new ResumeSlots(config);
    const r1 = await slots.acquire();
    const r2 = await slots.acquire();
    const waiting = slots.acquire();
    await assert.rejects(
      slots.acquire(),
      (err: unknown) => err instanceof ResumeBusyError && err.getStatus() === 503 && err.code === 'resume_busy',
    );
    r1();
    r1(); // idempotent
    const r3 = await waiting;
    assert.equal(slots.running, 2);
    await assert.rejects(slots.acquire(), (err: unknown) => err instanceof ResumeBusyError && err.headers['Retry-After'] === '1');
    r2();
    r3();
    assert.equal(slots.running, 0);
  });
});
