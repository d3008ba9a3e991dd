import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createOrg, startTestApp, type TestApp, type TestOrg } from '../support/launcher.js';
import { Receiver } from '../support/receiver.js';
import { waitFor } from '../support/time.js';
import { publish } from '../webhooks/fixtures.js';
import { AmqpDestination } from '../../src/destinations/amqp.destination.js';
import { MqttDestination } from '../../src/destinations/mqtt.destination.js';
import { NatsDestination } from '../../src/destinations/nats.destination.js';
import { RedisDestination } from '../../src/destinations/redis.destination.js';
import { SmtpDestination } from '../../src/destinations/smtp.destination.js';
import { maskUrl, unmaskUrl } from '../../src/destinations/url-mask.js';
import { assertSignedMessage, destinationHook } from './support.js';

const PUBLIC_URL = 'https://events.example.test';
let app: TestApp;
let rx: Receiver;
let org: TestOrg;

before(async () => {
  app = await startTestApp({ env: { PUBLIC_URL } });
  rx = await Receiver.start();
  org = await createOrg(app);
});
after(async () => {
  await app.close();
  await rx.close();
});

describe('body formats', () => {
  test('slack: an incoming-webhook message (text + Block Kit) with the key fields and a console link, signed as sent', async () => {
    const hook = await destinationHook(app, org, `${rx.url}/slack`, { events: ['message.sent'], format: 'slack' });
    const view = (await app.http.get(`/api/v1/webhooks/${hook.id}`).set(org.auth)).body;
    assert.equal(view.format, 'slack');
    assert.equal(view.transport, 'http');
    const ev = await publish(app, org, 'message.sent', { companionId: 'comp-<1>' });
    const r = (await waitFor(() => rx.at('/slack')[0]))!;
    const body = JSON.parse(r.body);
    assert.equal(typeof body.text, 'string');
    assert.ok(body.text.startsWith('message.sent - companionId=comp-&lt;1&gt;'), body.text);
    const [header, section, context, actions] = body.blocks;
    assert.deepEqual(header, { type: 'header', text: { type: 'plain_text', text: 'message.sent', emoji: false } });
    assert.equal(section.type, 'section');
    assert.ok(section.fields.length <= 10);
    assert.deepEqual(section.fields[0], { type: 'mrkdwn', text: '*companionId*\ncomp-&lt;1&gt;' });
    assert.equal(context.type, 'context');
    assert.equal(actions.type, 'actions');
    assert.equal(actions.elements[0].type, 'button');
    assert.equal(actions.elements[0].url, `${PUBLIC_URL}/admin/#/events/${ev.id}`);
    assertSignedMessage(r.headers as Record<string, string>, r.body, hook.secret, { eventId: ev.id, eventType: 'message.sent' });
  });

  test('pagerduty: an Events API v2 trigger; severity mapped from data.severity, else by event type', async () => {
    const hook = await destinationHook(app, org, `${rx.url}/pd`, {
      events: ['error.occurred', 'chat.started'],
      format: 'pagerduty',
      formatOptions: { routingKey: 'R0UT1NGKEY' },
    });
    const err = await publish(app, org, 'error.occurred', { severity: 'high' });
    const chat = await publish(app, org, 'chat.started');
    const got = (await waitFor(() => (rx.at('/pd').length >= 2 ? rx.at('/pd') : null)))!;
    const byId = new Map(got.map((r) => [JSON.parse(r.body).dedup_key, JSON.parse(r.body)]));
    const e = byId.get(err.id);
    assert.equal(e.routing_key, 'R0UT1NGKEY');
    assert.equal(e.event_action, 'trigger');
    assert.equal(e.payload.severity, 'error', 'high → error');
    assert.equal(e.payload.source, `humana-events/${org.id}`);
    assert.match(e.payload.summary, /^error\.occurred - /);
    assert.deepEqual(e.payload.custom_details, err);
    assert.equal(e.links[0].href, `${PUBLIC_URL}/admin/#/events/${err.id}`);
    assert.equal(byId.get(chat.id).payload.severity, 'info');
    for (const r of got)
      assertSignedMessage(r.headers as Record<string, string>, r.body, hook.secret, {
        eventId: JSON.parse(r.body).dedup_key,
        eventType: String(r.headers['x-humana-event']),
      });
  });
});

describe('validation: 400 naming the field', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['unknown scheme', { url: 'ftp://example.com/x' }, 'url'],
    ['amqp without routingKey', { url: 'amqp://guest:guest@127.0.0.1/?exchange=x' }, 'url.routingKey'],
    ['amqp without exchange', { url: 'amqp://127.0.0.1/?routingKey=x' }, 'url.exchange'],
    ['amqp unknown placeholder', { url: 'amqp://127.0.0.1/?exchange=&routingKey={type}.{foo}' }, 'url.routingKey'],
    ['nats without subject', { url: 'nats://127.0.0.1:4222' }, 'url.subject'],
    ['nats wildcard subject', { url: 'nats://127.0.0.1:4222?subject=a.*' }, 'url.subject'],
    ['mqtt without topic', { url: 'mqtt://127.0.0.1:1883' }, 'url.topic'],
    ['mqtt bad qos', { url: 'mqtt://127.0.0.1:1883?topic=a&qos=3' }, 'url.qos'],
    ['mqtt wildcard topic', { url: 'mqtt://127.0.0.1:1883?topic=a/%23' }, 'url.topic'],
    ['redis without stream', { url: 'redis://127.0.0.1:6379/0' }, 'url.stream'],
    ['redis bad placeholder', { url: 'redis://127.0.0.1:6379?stream={data.}' }, 'url.stream'],
    ['smtp without to', { url: 'smtp://127.0.0.1:25?from=a@b.test' }, 'url.to'],
    ['smtp without from', { url: 'smtp://127.0.0.1:25?to=a@b.test' }, 'url.from'],
    ['smtp bad recipient', { url: 'smtp://127.0.0.1:25?from=a@b.test&to=a@b.test,nope' }, 'url.to'],
    ['pagerduty without routingKey', { url: 'https://example.com/pd', format: 'pagerduty' }, 'formatOptions.routingKey'],
    ['slack on a broker URL', { url: 'nats://127.0.0.1:4222?subject=a', format: 'slack' }, 'format'],
    ['unknown format', { url: 'https://example.com/x', format: 'teams' }, 'format'],
  ];
  for (const [name, body, field] of cases) {
    test(name, async () => {
      const res = await app.http
        .post('/api/v1/webhooks')
        .set(org.auth)
        .send({ events: ['*'], ...body });
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.error.code, 'validation_error');
      assert.ok(
        res.body.error.details.some((d: { field: string }) => d.field === field),
        JSON.stringify(res.body.error),
      );
    });
  }

  test('PATCH re-validates the merged configuration', async () => {
    const hook = await destinationHook(app, org, 'nats://127.0.0.1:4222?subject=ok');
    const bad = await app.http.patch(`/api/v1/webhooks/${hook.id}`).set(org.auth).send({ url: 'nats://127.0.0.1:4222' });
    assert.equal(bad.status, 400);
    const slack = await app.http.patch(`/api/v1/webhooks/${hook.id}`).set(org.auth).send({ format: 'slack' });
    assert.equal(slack.status, 400);
    assert.equal(slack.body.error.details[0].field, 'format');
  });
});

describe('SSRF rule for every scheme', () => {
  test('at create time (ALLOW_PRIVATE_WEBHOOK_URLS=false): a broker on a private address is refused, with or without TLS', async () => {
    const strict = await startTestApp({ env: { ALLOW_PRIVATE_WEBHOOK_URLS: 'false' } });
    try {
      const o = await createOrg(strict);
      for (const url of [
        'amqp://guest:guest@127.0.0.1:5672/?exchange=&routingKey=k',
        'nats://10.0.0.1:4222?subject=a',
        'mqtt://localhost:1883?topic=a',
        'redis://169.254.169.254:6379?stream=s',
        'smtp://192.168.1.1?from=a@b.test&to=c@d.test',
        // The TLS schemes: the same rule.
        'amqps://guest:guest@127.0.0.1:5671/?exchange=&routingKey=k',
        'nats://10.0.0.1:4222?subject=a&tls=true',
        'mqtts://localhost:8883?topic=a',
        'rediss://169.254.169.254:6380?stream=s',
        'smtps://192.168.1.1?from=a@b.test&to=c@d.test',
      ]) {
        const res = await strict.http
          .post('/api/v1/webhooks')
          .set(o.auth)
          .send({ url, events: ['*'] });
        assert.equal(res.status, 400, `${url}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.details[0].field, 'url');
        assert.ok(!JSON.stringify(res.body).includes('guest:guest'));
      }
    } finally {
      await strict.close();
    }
  });

  test('at delivery time: every destination refuses a private address before connecting (errorKind blocked, not retried)', async () => {
    const req = { headers: { 'webhook-id': 'evt_1', 'x-humana-delivery': 'del_1' }, body: '{}', timeoutMs: 2000 };
    const cases = [
      [new AmqpDestination(false), 'amqp://guest:guest@127.0.0.1:5672/?exchange=&routingKey=k'],
      [new NatsDestination(false), 'nats://127.0.0.1:4222?subject=a'],
      [new MqttDestination(false), 'mqtt://[::1]:1883?topic=a'],
      [new RedisDestination(false), 'redis://localhost:6379?stream=s'],
      [new SmtpDestination(false), 'smtp://10.1.2.3:25?from=a@b.test&to=c@d.test'],
    ] as const;
    for (const [d, url] of cases) {
      const res = await d.send({ ...req, url });
      assert.equal(res.statusCode, null);
      assert.equal(res.errorKind, 'blocked', `${url}: ${res.error}`);
      await d.close();
    }
  });
});

test('maskUrl / unmaskUrl', () => {
  assert.equal(maskUrl('amqp://guest:guest@host/vh?exchange=x&routingKey=k'), 'amqp://guest:***@host/vh?exchange=x&routingKey=k');
  assert.equal(maskUrl('nats://s3cr3tt0ken@host:4222?subject=a'), 'nats://***@host:4222?subject=a');
  assert.equal(maskUrl('https://example.com/hook?token=abc&x=1'), 'https://example.com/hook?token=***&x=1');
  assert.equal(maskUrl('https://example.com/hook'), 'https://example.com/hook');
  assert.equal(maskUrl('smtp://u:p%40ss@h?from=a@b.test&to=c@d.test'), 'smtp://u:***@h?from=a@b.test&to=c@d.test');
  const stored = 'redis://:pw@h:6379/1?stream=s';
  assert.equal(unmaskUrl(maskUrl(stored), stored), stored);
  assert.equal(unmaskUrl('redis://:new@h:6379/1?stream=s', stored), 'redis://:new@h:6379/1?stream=s');
});
