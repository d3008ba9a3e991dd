import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createOrg, startTestApp, type TestApp, type TestOrg } from '../support/launcher.js';
import { Receiver } from '../support/receiver.js';
import { hookFor, publish } from '../webhooks/fixtures.js';
import { waitFor } from '../support/time.js';

/**
 * "A webhook receives every event appended after its creation was acknowledged, even when the worker learns about the
 * webhook late." The late notification is forced: WEBHOOK_INDEX_PUBSUB=false leaves the change channel unsubscribed
 * and WEBHOOK_INDEX_REFRESH_MS=600000 puts the periodic version check out of reach, so the worker's index hears of a
 * new webhook only through what the matcher itself does before matching a batch.
 */
describe('matcher guarantee: every event appended after the webhook create was acknowledged is delivered', () => {
  let app: TestApp;
  let rx: Receiver;
  let org: TestOrg;
  before(async () => {
    app = await startTestApp({ env: { WEBHOOK_INDEX_PUBSUB: 'false', WEBHOOK_INDEX_REFRESH_MS: '600000' } });
    rx = await Receiver.start();
    org = await createOrg(app);
  });
  after(async () => {
    await app.close();
    await rx.close();
  });

  test('events published right after the 201 all arrive although the index was never told', async () => {
    const early = await publish(app, org, 'message.sent'); // before the webhook: never delivered to it
    const hook = await hookFor(app, rx.url, { events: ['message.*'] }, org);
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push((await publish(app, org, 'message.sent', { content: `m${i}` })).id);
    const seen = () => new Set(rx.received.filter((r) => r.path === hook.path).map((r) => JSON.parse(r.body).id as string));
    await waitFor(() => ids.every((id) => seen().has(id)), 15_000);
    const got = seen();
    assert.equal(got.has(early.id), false, 'an event appended before the webhook existed is not delivered to it');
  });

  test('a second webhook created later in the same organization also gets everything after its 201', async () => {
    const first = await hookFor(app, rx.url, { events: ['chat.*'] }, org);
    const a = await publish(app, org, 'chat.started');
    const second = await hookFor(app, rx.url, { events: ['chat.*'] }, org);
    const b = await publish(app, org, 'chat.started');
    const idsAt = (path: string) => new Set(rx.received.filter((r) => r.path === path).map((r) => JSON.parse(r.body).id as string));
    await waitFor(() => idsAt(first.path).has(a.id) && idsAt(first.path).has(b.id) && idsAt(second.path).has(b.id), 15_000);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(idsAt(second.path).has(a.id), false, 'the second webhook does not get the event appended before it was created');
  });
});
