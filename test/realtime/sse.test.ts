import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { EventSource } from 'eventsource';
import { Redis } from 'ioredis';
import { eventIdFromStreamId } from '../../src/common/ids.js';
import type { EventType } from '../../src/events/catalog.js';
import { ConnectionCounter } from '../../src/realtime/connection-counter.js';
import { createOrg, databases, startTestApp, type TestApp, type TestOrg } from '../support/launcher.js';
import { sleep, waitFor } from '../support/time.js';
import { eventOf, publish, publishBatch, RT_ENV, SseClient, sseUrl, startRealtimeApp, type RealtimeSuite } from './clients.js';

/** Reads a raw SSE response until `until` matches the text received so far. */
function rawStream(url: string, headers: Record<string, string>, until: RegExp): Promise<{ res: http.IncomingMessage; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        if (until.test(text)) {
          req.destroy();
          resolve({ res, text });
        }
      });
      res.on('end', () => resolve({ res, text }));
    });
    req.on('error', reject);
  });
}

describe('SSE /api/v1/events/stream', () => {
  let app: TestApp;
  let a: TestOrg;
  let b: TestOrg;
  let suite: RealtimeSuite;
  const client = (url: string, opts: { key?: string; lastEventId?: string } = {}) => suite.track(new SseClient(url, opts));

  before(async () => {
    ({ app, a, b } = suite = await startRealtimeApp());
  });
  after(() => suite.close());

  test('the seed snippets: eventsource with an Authorization header (v4: through fetch) and a browser EventSource with access_token', async () => {
    // Node: the seed's `headers: { Authorization }`, written the way eventsource v4 takes headers
    const received: { content: unknown; id: string }[] = [];
    const node = new EventSource(sseUrl(app, 'companions=comp-123'), {
      fetch: (input, init) => fetch(input, { ...init, headers: { ...init.headers, Authorization: `Bearer ${a.key}` } }),
    });
    node.addEventListener('message.sent', (event) => {
      const data = JSON.parse(event.data);
      received.push({ content: data.content, id: event.lastEventId });
    });
    // Browser: EventSource cannot set headers, so the key goes in the query
    const browserGot: string[] = [];
    const browser = new EventSource(sseUrl(app, `companions=comp-123&access_token=${encodeURIComponent(a.key)}`));
    browser.addEventListener('message.sent', (event) => browserGot.push(JSON.parse(event.data).content));
    try {
      await waitFor(() => node.readyState === EventSource.OPEN && browser.readyState === EventSource.OPEN);
      await publish(app, a, 'message.sent', { companionId: 'comp-999', content: 'not for comp-123' });
      const sent = await publish(app, a, 'message.sent', { companionId: 'comp-123', content: 'Hello, how can I help you?' });
      await waitFor(() => received.length >= 1 && browserGot.length >= 1);
      await sleep(100);
      assert.deepEqual(received, [{ content: 'Hello, how can I help you?', id: sent.id }]);
      assert.deepEqual(browserGot, ['Hello, how can I help you?']);
    } finally {
      node.close();
      browser.close();
    }
  });

  test('response headers, opening frame, event frame and heartbeat frame are exactly the contract’s', async () => {
    const stream = rawStream(
      sseUrl(app),
      { Authorization: `Bearer ${a.key}`, Accept: 'text/event-stream' },
      /event: message\.sent[\s\S]*event: heartbeat[^]*?\n\n/,
    );
    await waitFor(() => app.running.app.get(ConnectionCounter).forOrganization(a.id) > 0);
    const sent = await publish(app, a, 'message.sent', { messageId: 'raw-1' });
    const { res, text } = await stream;
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type']!, /^text\/event-stream/);
    assert.match(res.headers['cache-control']!, /no-cache/);
    assert.equal(res.headers['x-accel-buffering'], 'no');
    assert.equal(res.headers['content-encoding'], undefined);
    assert.ok(text.startsWith('retry: 2000\n: ok\n\n'), JSON.stringify(text.slice(0, 40)));
    assert.ok(text.includes(`event: message.sent\nid: ${sent.id}\ndata: ${JSON.stringify(sent.data)}\n\n`), text);
    const beat = /event: heartbeat\n([^]*?)\n\n/.exec(text)!;
    assert.match(beat[1], /^data: \{"timestamp":"\d{4}-\d\d-\d\dT[^"]+Z"\}$/, 'a heartbeat has no id line (it would move Last-Event-ID)');
  });

  test('heartbeats arrive every HEARTBEAT_INTERVAL_MS', async () => {
    const c = client(sseUrl(app), { key: a.key });
    await c.opened;
    await waitFor(() => c.messages.filter((m) => m.type === 'heartbeat').length >= 5, 5000);
    const beats = c.messages.filter((m) => m.type === 'heartbeat');
    const gaps = beats.slice(1).map((m, i) => m.at - beats[i].at);
    for (const gap of gaps) assert.ok(gap >= 200 && gap <= 450, `gap ${gap} ms (period 300 ms): ${gaps}`);
    for (const m of beats) assert.equal(m.id, '', 'no id on heartbeats');
    c.close();
  });

  test('each filter alone and combined; another organization’s events never arrive whatever the query says', async () => {
    const filters: Record<string, string> = {
      all: '',
      own_org: `organizationId=${a.id}`,
      companions: 'companions=comp-1,comp-2',
      events: 'events=message.sent,chat.started',
      pattern: 'events=message.*',
      user: 'userId=user-1',
      combined: 'companions=comp-1,comp-2&events=message.*&userId=user-1',
      repeated: 'companions=comp-1&companions=comp-3',
      blank: 'userId=&companions=&events=&lastEventId=', // empty values: not set
    };
    const expect: Record<string, (e: { type: string; data: Record<string, unknown> }) => boolean> = {
      all: () => true,
      own_org: () => true,
      companions: (e) => ['comp-1', 'comp-2'].includes(e.data.companionId as string),
      events: (e) => ['message.sent', 'chat.started'].includes(e.type),
      pattern: (e) => e.type.startsWith('message.'),
      user: (e) => e.data.userId === 'user-1',
      combined: (e) =>
        ['comp-1', 'comp-2'].includes(e.data.companionId as string) && e.type.startsWith('message.') && e.data.userId === 'user-1',
      repeated: (e) => ['comp-1', 'comp-3'].includes(e.data.companionId as string),
      blank: () => true,
    };
    const subs = Object.fromEntries(Object.entries(filters).map(([name, q]) => [name, client(sseUrl(app, q), { key: a.key })]));
    await Promise.all(Object.values(subs).map((c) => c.opened));

    const types: EventType[] = ['message.sent', 'message.received', 'chat.started', 'companion.activated'];
    const events = [];
    for (let i = 0; i < 40; i++) {
      const type = types[i % types.length];
      const data: Record<string, unknown> = { companionId: `comp-${i % 4}` };
      if (type !== 'companion.activated') data.userId = `user-${i % 3}`;
      events.push(eventOf(type, data));
    }
    await publishBatch(app, b, events); // same events for B first: none of them may reach A's streams
    const ids = await publishBatch(app, a, events);
    const published = events.map((e, i) => ({ ...e, id: ids[i] }));

    await subs.all.waitForEvents(published.length);
    await sleep(200);
    for (const [name, c] of Object.entries(subs)) {
      const want = published.filter(expect[name]).map((e) => e.id);
      assert.ok(want.length > 0 || name === 'combined', name);
      assert.deepEqual(c.ids(), want, `filter "${name}" (${filters[name]})`);
      for (const m of c.events()) assert.ok(ids.includes(m.id), `${name} got an event of another organization`);
    }
    for (const c of Object.values(subs)) c.close();
  });

  test('refusals are JSON errors with the right status: 400 filters and resume ids, 401, 403 scope and organization', async () => {
    const get = (query: string, headers: Record<string, string> = { Authorization: `Bearer ${a.key}` }) =>
      app.http.get(`/api/v1/events/stream${query}`).set(headers).buffer(true);
    const unknownType = await get('?events=message.sent,nope.happened').expect(400);
    assert.equal(unknownType.body.error.code, 'validation_error');
    assert.match(unknownType.body.error.message, /nope\.happened/);
    assert.ok(unknownType.body.error.details.some((d: { field: string }) => d.field.startsWith('events')));
    assert.equal((await get('?events=bogus.*').expect(400)).body.error.code, 'validation_error');
    assert.equal((await get('?companion=typo').expect(400)).body.error.code, 'validation_error');
    assert.equal((await get('?lastEventId=12345').expect(400)).body.error.code, 'invalid_last_event_id');
    assert.equal(
      (await get('', { Authorization: `Bearer ${a.key}`, 'Last-Event-ID': 'evt_nope' }).expect(400)).body.error.code,
      'invalid_last_event_id',
    );
    const future = eventIdFromStreamId(`${Date.now() + 3600_000}-0`);
    assert.equal((await get(`?lastEventId=${future}`).expect(400)).body.error.code, 'unknown_last_event_id');
    assert.equal((await get('', {}).expect(401)).body.error.code, 'unauthorized');
    assert.equal((await get(`?access_token=hk_wrong`, {}).expect(401)).body.error.code, 'unauthorized');
    const other = await get(`?organizationId=${b.id}`).expect(403);
    assert.equal(other.body.error.code, 'forbidden');
    const noScope = await createOrg(app, 'no-streams', ['events:read']);
    assert.equal((await get('', noScope.auth).expect(403)).body.error.code, 'forbidden');
  });

  test('resume: disconnect, 50 events published, reconnect with Last-Event-ID → exactly those 50 in order, then live ones', async () => {
    const first = client(sseUrl(app, 'events=message.*'), { key: a.key });
    await first.opened;
    const e0 = await publish(app, a, 'message.sent', { messageId: 'before' });
    await first.waitForEvents(1);
    first.close();
    const missed: string[] = [];
    for (let i = 0; i < 5; i++) {
      const batch = Array.from({ length: 10 }, (_, j) =>
        eventOf(j % 2 ? 'message.received' : 'message.sent', { messageId: `m${i * 10 + j}` }),
      );
      missed.push(...(await publishBatch(app, a, batch)));
      await publishBatch(app, a, [eventOf('chat.started')]); // filtered out on replay too
      await publishBatch(app, b, batch); // another organization
    }
    const again = client(sseUrl(app, 'events=message.*'), { key: a.key, lastEventId: e0.id });
    await again.waitForEvents(50);
    const live = [
      await publish(app, a, 'message.sent', { messageId: 'live-1' }),
      await publish(app, a, 'message.received', { messageId: 'live-2' }),
    ];
    await again.waitForEvents(52);
    await sleep(200);
    assert.deepEqual(again.ids(), [...missed, ...live.map((e) => e.id)]);
    again.close();
  });

  test('resume while events keep being published: no gap and no duplicate at the hand-over to live', async () => {
    const first = client(sseUrl(app), { key: a.key });
    await first.opened;
    const e0 = await publish(app, a, 'companion.activated');
    await first.waitForEvents(1);
    first.close();
    // enough missed events that the replay takes several reads, while live ones keep arriving meanwhile
    const published: string[] = [];
    for (let i = 0; i < 4; i++)
      published.push(
        ...(await publishBatch(
          app,
          a,
          Array.from({ length: 500 }, (_, j) => eventOf('message.sent', { messageId: `r${i}-${j}` })),
        )),
      );
    let stop = false;
    const publisher = (async () => {
      for (let i = 0; !stop && i < 300; i++) {
        published.push(
          ...(await publishBatch(app, a, [
            eventOf('message.sent', { messageId: `c${i}a` }),
            eventOf('message.sent', { messageId: `c${i}b` }),
          ])),
        );
      }
    })();
    await sleep(50);
    const again = client(sseUrl(app), { key: a.key, lastEventId: e0.id });
    await again.opened;
    await sleep(300);
    stop = true;
    await publisher;
    await again.waitForEvents(published.length);
    await sleep(200);
    const got = again.ids();
    assert.equal(new Set(got).size, got.length, 'no duplicate');
    assert.deepEqual(got, published);
    again.close();
  });

  test('open streams are counted per transport and organization, and released on close', async () => {
    const counter = app.running.app.get(ConnectionCounter);
    await waitFor(() => counter.counts().sse === 0); // earlier tests' clients are gone
    const c1 = client(sseUrl(app), { key: b.key });
    const c2 = client(sseUrl(app, `access_token=${b.key}`));
    await Promise.all([c1.opened, c2.opened]);
    await waitFor(() => counter.counts().sse === 2);
    assert.equal(counter.forOrganization(b.id), 2);
    assert.equal(counter.forOrganization(a.id), 0);
    c1.close();
    c2.close();
    await waitFor(() => counter.counts().sse === 0 && counter.forOrganization(b.id) === 0);
  });
});

for (const db of databases()) {
  describe(`SSE resume beyond what the Redis Stream retains (SQL history on ${db})`, () => {
    let app: TestApp;
    let org: TestOrg;
    before(async () => {
      app = await startTestApp({ db, env: RT_ENV });
      org = await createOrg(app);
    });
    after(() => app.close());

    test('replays from SQL up to the stream’s oldest entry, then from the stream, with no gap or duplicate', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) {
        ids.push(
          ...(await publishBatch(
            app,
            org,
            Array.from({ length: 150 }, (_, j) => eventOf(j % 3 ? 'message.sent' : 'chat.started', { messageId: `m${i}-${j}` })),
          )),
        );
      }
      await waitFor(
        async () => (await app.http.get('/api/v1/events/history?limit=1000').set(org.auth)).body.events.length === ids.length,
        15_000,
        100,
      );
      // retention: the stream keeps only its newest 100 entries, the older ones are in SQL only
      const r = new Redis(app.redis.url);
      await r.xtrim('{humana}:events', 'MAXLEN', 100);
      const [[oldest]] = await r.xrange('{humana}:events', '-', '+', 'COUNT', 1);
      await r.quit();
      assert.equal(eventIdFromStreamId(oldest), ids[500]);

      const c = new SseClient(sseUrl(app, 'events=message.sent'), { key: org.key, lastEventId: ids[0] });
      try {
        const want = ids.slice(1).filter((_, i) => ((i + 1) % 150) % 3 !== 0);
        await c.waitForEvents(want.length);
        const live = await publish(app, org, 'message.sent');
        await c.waitForEvents(want.length + 1);
        await sleep(200);
        assert.deepEqual(c.ids(), [...want, live.id]);
      } finally {
        c.close();
      }
    });
  });
}
