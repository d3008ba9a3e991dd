import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HumanaApiError, HumanaEvents, sampleData, type ResumableIterator, type StreamEvent } from '../../sdk/src/index.js';
import { connectionKiller, createOrg, startTestApp, type TestApp } from './server.js';

/** Reads `n` events from the iterator (with a timeout). */
async function take(it: ResumableIterator, n: number, timeoutMs = 15_000): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  const timer = setTimeout(() => void it.return?.(undefined), timeoutMs);
  try {
    while (out.length < n) {
      const r = await it.next();
      if (r.done) break;
      out.push(r.value);
    }
  } finally {
    clearTimeout(timer);
  }
  if (out.length < n) throw new Error(`got ${out.length}/${n} events before the timeout`);
  return out;
}

for (const transport of ['stream', 'socket'] as const) {
  describe(`events.${transport}() against a running server`, () => {
    let app: TestApp;
    let sdk: HumanaEvents;
    let killer: ReturnType<typeof connectionKiller>;

    before(async () => {
      app = await startTestApp({ env: { HEARTBEAT_INTERVAL_MS: '200' } });
      killer = connectionKiller(app);
      sdk = new HumanaEvents({ baseUrl: app.url, apiKey: (await createOrg(app)).key });
    });
    after(async () => app?.close());

    const publish = async (n: number, tag: string) => {
      const ids: string[] = [];
      for (let i = 0; i < n; i++)
        ids.push((await sdk.events.publish({ type: 'message.sent', data: { ...sampleData['message.sent'], content: `${tag}-${i}` } })).id);
      return ids;
    };

    it('resumes after a server-side disconnect with no gap and no duplicate', async () => {
      let opens = 0;
      let opened!: () => void;
      const firstOpen = new Promise<void>((r) => (opened = r));
      const it = sdk.events[transport]({
        events: ['message.*'],
        reconnectBaseMs: 50,
        onOpen: () => {
          opens++;
          opened();
        },
      });
      const pending = take(it, 5); // starts the connection
      await firstOpen;
      const before = await publish(5, 'a');
      const first = await pending;
      assert.deepEqual(
        first.map((e) => e.id),
        before,
      );
      assert.equal(first[0].type, 'message.sent');
      assert.equal((first[0].data as { content: string }).content, 'a-0');

      assert.ok(killer.killAll() > 0, 'cut the live connection server-side');
      const during = await publish(5, 'b'); // while the client is reconnecting
      const later = await publish(3, 'c');
      const rest = await take(it, 8);
      await it.return?.(undefined);
      assert.deepEqual(
        rest.map((e) => e.id),
        [...during, ...later],
        'exactly the missed events, in order, then live',
      );
      assert.ok(opens >= 2, 'reconnected');
      assert.equal(it.lastEventId, later.at(-1));
    });

    it('starts after lastEventId and skips heartbeats', async () => {
      const ids = await publish(4, 'd');
      const it = sdk.events[transport]({ events: ['message.sent'], lastEventId: ids[1] });
      const got = await take(it, 2);
      await it.return?.(undefined);
      assert.deepEqual(
        got.map((e) => e.id),
        ids.slice(2),
      );
    });

    it('ends cleanly on abort', async () => {
      const ac = new AbortController();
      const it = sdk.events[transport]({ signal: ac.signal });
      setTimeout(() => ac.abort(), 300);
      const r = await it.next();
      assert.equal(r.done, true);
    });

    it('throws a typed error for a refused stream (bad key) instead of reconnecting forever', async () => {
      const bad = new HumanaEvents({ baseUrl: app.url, apiKey: 'hk_nope' });
      await assert.rejects(
        bad.events[transport]({ reconnectBaseMs: 10 }).next(),
        (e: unknown) => e instanceof HumanaApiError && e.status === 401,
      );
    });
  });
}
