import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import WebSocket from 'ws';
import { EVENT_TYPES } from '../../src/events/catalog.js';
import { WS_MAX_FRAME_BYTES } from '../../src/realtime/ws-streams.js';
import {
  assertClearAnswer,
  assertHealthy,
  hostileValue,
  jsonText,
  Obj,
  PER_INPUT_MS,
  PROTO_KEYS,
  RUNS,
  startTarget,
  type HostileTarget,
} from './support.js';

const queryKey = fc.oneof(
  fc.constantFrom('companions', 'events', 'userId', 'organizationId', 'lastEventId', 'access_token', 'companion', ...PROTO_KEYS),
  fc.string({ maxLength: 10 }),
);
const queryValue = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: fc.constantFrom('a', '*', ','), maxLength: 300 }),
  fc.constantFrom(...EVENT_TYPES, 'message.*', '*', 'nope.*', 'evt_nope', `evt_${'0'.repeat(26)}`, '%', '%00', ''),
);
/** `k=v&k=v…` with random keys, repeats, encodings and junk. */
const query = fc.oneof(
  fc.array(fc.tuple(queryKey, queryValue), { maxLength: 6 }).map((pairs) => new URLSearchParams(pairs).toString()),
  fc.string({ maxLength: 80 }).map((s) => encodeURI(s).replace(/#/g, '%23')),
);

const frame = fc.oneof(
  { arbitrary: fc.string({ maxLength: 200 }), weight: 2 },
  { arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)), weight: 1 },
  {
    arbitrary: fc
      .record({
        type: fc.oneof(fc.constantFrom('subscribe', 'unsubscribe', 'ping', 'chat', 'event', 'ack', '__proto__'), hostileValue),
        requestId: fc.oneof(fc.string({ maxLength: 20 }), hostileValue),
        payload: fc.oneof(
          hostileValue,
          fc
            .record(
              {
                events: fc.oneof(fc.subarray(['*', 'message.*', ...EVENT_TYPES], { maxLength: 3 }), hostileValue),
                companions: fc.oneof(
                  fc.array(fc.string({ unit: fc.constantFrom('a', '*'), maxLength: 60 }), { maxLength: 3 }),
                  hostileValue,
                ),
                userId: fc.oneof(fc.string({ maxLength: 300 }), hostileValue),
                lastEventId: fc.oneof(fc.string({ maxLength: 40 }), hostileValue),
                subscriptionId: hostileValue,
                companionId: hostileValue,
                content: hostileValue,
              },
              { requiredKeys: [] },
            )
            .map((o) => new Obj(Object.entries(o))),
        ),
      })
      .map((o) => jsonText(new Obj(Object.entries(o)))),
    weight: 4,
  },
  {
    arbitrary: fc.integer({ min: 1, max: WS_MAX_FRAME_BYTES - 64 }).map((n) => `{"type":"ping","requestId":"${'x'.repeat(n)}"}`),
    weight: 1,
  },
  { arbitrary: fc.constantFrom('{', '[]', 'null', '"ping"', '{"type":"ping","requestId":1}'), weight: 1 },
);

describe('hostile stream queries and frames', () => {
  let t: HostileTarget;
  before(async () => (t = await startTarget()));
  after(() => t.close());

  test('SSE with random query strings: a 200 event stream or a clear 4xx, never a 500 or a stall', async () => {
    await fc.assert(
      fc.asyncProperty(query, async (q) => {
        const abort = new AbortController();
        const timer = setTimeout(() => abort.abort(), PER_INPUT_MS);
        try {
          const res = await fetch(`${t.app.url}/api/v1/events/stream?${q}`, {
            headers: { Authorization: t.org.auth.Authorization, Accept: 'text/event-stream' },
            signal: abort.signal,
          });
          if (res.status === 200) {
            assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/, q);
            return;
          }
          const text = await res.text();
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          assertClearAnswer({ status: res.status, headers: res.headers, text, json }, q);
        } finally {
          clearTimeout(timer);
          abort.abort();
        }
      }),
      { numRuns: RUNS },
    );
    await assertHealthy(t);
  });

  test('raw WebSocket frames: every frame is answered or ignored, the connection stays open and keeps answering pings', async () => {
    const ws = new WebSocket(`${t.app.url.replace(/^http/, 'ws')}/api/v1/ws`, { headers: { Authorization: t.org.auth.Authorization } });
    const replies: { type: string; requestId?: string; payload?: { code?: unknown; message?: unknown } }[] = [];
    let closed: number | undefined;
    ws.on('message', (d) => replies.push(JSON.parse(d.toString())));
    ws.on('close', (code) => (closed = code));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    let n = 0;
    await fc.assert(
      fc.asyncProperty(frame, async (f) => {
        ws.send(f);
        const probe = `probe-${++n}`;
        ws.send(JSON.stringify({ type: 'ping', requestId: probe }));
        const deadline = Date.now() + PER_INPUT_MS;
        while (!replies.some((r) => r.requestId === probe)) {
          assert.equal(closed, undefined, `the connection closed (${closed}) after ${String(f).slice(0, 120)}`);
          assert.ok(Date.now() < deadline, `no pong within ${PER_INPUT_MS} ms after ${String(f).slice(0, 120)}`);
          await new Promise((r) => setTimeout(r, 5));
        }
        for (const r of replies.filter((x) => x.type === 'error')) {
          assert.ok(typeof r.payload?.code === 'string' && typeof r.payload.message === 'string', JSON.stringify(r).slice(0, 200));
          assert.notEqual(r.payload.code, 'internal_error', `${JSON.stringify(r).slice(0, 200)} after ${String(f).slice(0, 120)}`);
        }
        replies.length = 0;
      }),
      { numRuns: RUNS },
    );
    ws.terminate();
    await assertHealthy(t);
  });
});
