import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { Redis } from 'ioredis';
import { createOrg, startTestApp, type TestApp } from '../support/launcher.js';
import { startPrivateRedis, type PrivateRedis } from '../support/redis.js';
import { waitFor } from '../support/time.js';
import { deliveryIn, dlqOf, publish } from '../webhooks/fixtures.js';
import { assertSignedMessage, destinationHook, SHORT_RETRY, unique } from './support.js';

let app: TestApp;
let target: PrivateRedis;

before(async () => {
  app = await startTestApp();
  target = await startPrivateRedis();
});
after(async () => {
  await app.close();
  await target.destroy();
});

describe('mqtt destination', () => {
  test('QoS 1 publish: the subscriber gets the signed envelope with the headers as MQTT 5 user properties', async () => {
    const base = unique('humana');
    const sub = await mqtt.connectAsync({ host: '127.0.0.1', port: 1883, protocolVersion: 5 });
    const got: { topic: string; payload: Buffer; props: Record<string, unknown> }[] = [];
    sub.on('message', (topic, payload, packet) =>
      got.push({ topic, payload, props: (packet.properties?.userProperties ?? {}) as Record<string, unknown> }),
    );
    await sub.subscribeAsync(`${base}/#`, { qos: 1 });
    try {
      const org = await createOrg(app);
      const hook = await destinationHook(app, org, `mqtt://127.0.0.1:1883?topic=${base}/{type}/{data.companionId}&qos=1`, {
        events: ['message.sent'],
      });
      const ev = await publish(app, org, 'message.sent', { companionId: 'a/b+c' });
      const m = (await waitFor(() => got[0]))!;
      assert.equal(m.topic, `${base}/message.sent/a_b_c`, 'a value is one level: "/", "+" and "#" become "_"');
      assertSignedMessage(m.props, m.payload.toString(), hook.secret, { eventId: ev.id, eventType: 'message.sent' });
      assert.deepEqual(JSON.parse(m.payload.toString()), ev);
      const d = await deliveryIn(app, hook, 'success');
      assert.match(d.attemptHistory[0].responseBody, /^PUBACK/);
    } finally {
      await sub.endAsync();
    }
  });

  test('a closed port: retried, then the DLQ', async () => {
    const org = await createOrg(app);
    const hook = await destinationHook(app, org, 'mqtt://127.0.0.1:1?topic=x', { events: ['message.sent'], retry: SHORT_RETRY });
    await publish(app, org, 'message.sent');
    const d = await deliveryIn(app, hook, 'failed', 15_000);
    assert.equal(d.attemptHistory.length, 2);
    assert.ok(
      d.attemptHistory.every((a) => a.errorKind === 'connection'),
      JSON.stringify(d.attemptHistory),
    );
    assert.match((await waitFor(async () => (await dlqOf(app, hook))[0])).failureReason, /ECONNREFUSED/);
  });
});

describe('redis destination', () => {
  test('XADD of the body and the signature headers as fields, stream from placeholders, db from the path', async () => {
    const org = await createOrg(app);
    const hook = await destinationHook(app, org, `redis://127.0.0.1:${target.port}/3?stream=events:{organizationId}:{type}&maxLen=1000`, {
      events: ['message.sent'],
    });
    const ev = await publish(app, org, 'message.sent');
    const r = new Redis(target.port, '127.0.0.1', { db: 3 });
    try {
      const key = `events:${org.id}:message.sent`;
      const entries = await waitFor(async () => {
        const e = await r.xrange(key, '-', '+');
        return e.length ? e : null;
      });
      assert.equal(entries!.length, 1);
      const fields = entries![0][1];
      const f: Record<string, string> = {};
      for (let i = 0; i < fields.length; i += 2) f[fields[i]] = fields[i + 1];
      assert.deepEqual(JSON.parse(f.body), ev);
      assertSignedMessage(f, f.body, hook.secret, { eventId: ev.id, eventType: 'message.sent' });
      const d = await deliveryIn(app, hook, 'success');
      assert.match(d.attemptHistory[0].responseBody, new RegExp(`^XADD ${key} ${entries![0][0]}$`));
    } finally {
      r.disconnect();
    }
  });

  test('the target Redis stopped mid-run: retries fail with a connection error, then succeed once it is back', async () => {
    const org = await createOrg(app);
    const hook = await destinationHook(app, org, `redis://127.0.0.1:${target.port}?stream=restart`, {
      events: ['message.sent'],
      retry: { maxAttempts: 5, backoffMultiplier: 1, maxDelay: 1 },
    });
    await publish(app, org, 'message.sent');
    await deliveryIn(app, hook, 'success');
    await target.stop();
    const ev = await publish(app, org, 'message.sent');
    await deliveryIn(app, hook, 'retrying');
    await target.start();
    const r = new Redis(target.port, '127.0.0.1');
    try {
      await waitFor(async () => (await r.xrange('restart', '-', '+')).some(([, f]) => f[1].includes(ev.id)), 15_000);
    } finally {
      r.disconnect();
    }
  });
});
