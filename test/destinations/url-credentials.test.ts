import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import amqp from 'amqplib';
import {
  ADMIN_TOKEN,
  createOrg,
  createTestDatabase,
  databases,
  startTestApp,
  type TestApp,
  type TestDatabase,
} from '../support/launcher.js';
import { insertPlaintextWebhook, openRaw } from '../support/raw-db.js';
import { startPrivateRedis, type PrivateRedis } from '../support/redis.js';
import { waitFor } from '../support/time.js';
import { deliveryIn, publish } from '../webhooks/fixtures.js';
import { assertSignedMessage, destinationHook, unique } from './support.js';

const BROKER = 'amqp://guest:guest@127.0.0.1:5672';
const key = randomBytes(32);
const keyId = createHash('sha256').update(key).digest('hex').slice(0, 8);

async function storedUrl(databaseUrl: string, id: string): Promise<string> {
  const raw = await openRaw(databaseUrl);
  try {
    const [row] = await raw.query('SELECT url FROM webhooks WHERE id = ?', [id]);
    return row.url as string;
  } finally {
    await raw.close();
  }
}

function assertSealedUrl(stored: string): void {
  assert.ok(stored.startsWith(`enc:v1:${keyId}:`), `sealed with the current key: ${stored.slice(0, 24)}…`);
  assert.ok(!stored.includes('guest') && !stored.includes('5672'), 'neither the credentials nor the host are readable in SQL');
}

for (const kind of databases()) {
  describe(`destination URLs at rest and metrics by transport (${kind})`, () => {
    let redis: PrivateRedis;
    let db: TestDatabase;
    let app: TestApp | undefined;
    let conn: amqp.ChannelModel;
    let ch: amqp.Channel;
    const exchange = unique('humana-urls-x');
    const received: amqp.ConsumeMessage[] = [];

    const start = async () => {
      app = await startTestApp({ redis, databaseUrl: db.url, env: { SECRETS_KEY: key.toString('base64') } });
      return app;
    };
    const messageFor = (eventId: string) => waitFor(() => received.find((m) => m.properties.messageId === eventId));

    before(async () => {
      redis = await startPrivateRedis();
      db = createTestDatabase(kind);
      conn = await amqp.connect(BROKER);
      ch = await conn.createChannel();
      await ch.assertExchange(exchange, 'topic', { autoDelete: true });
      const { queue } = await ch.assertQueue('', { exclusive: true });
      await ch.bindQueue(queue, exchange, '#');
      await ch.consume(queue, (m) => m && received.push(m), { noAck: true });
    });
    after(async () => {
      await app?.stop();
      await conn.close();
      await db.drop();
      await redis.destroy();
    });

    test('the stored URL is sealed (no password in SQL), reads mask it, deliveries still authenticate; metrics carry the transport', async () => {
      const a = await start();
      const org = await createOrg(a);
      const url = `${BROKER}/?exchange=${exchange}&routingKey={type}`;
      const hook = await destinationHook(a, org, url, { events: ['message.sent'] });
      assertSealedUrl(await storedUrl(db.url, hook.id));
      const view = (await a.http.get(`/api/v1/webhooks/${hook.id}`).set(org.auth).expect(200)).body;
      assert.equal(view.url, `amqp://guest:***@127.0.0.1:5672/?exchange=${exchange}&routingKey={type}`);
      assert.equal(view.transport, 'amqp');

      const ev = await publish(a, org, 'message.sent');
      const m = (await messageFor(ev.id))!;
      assertSignedMessage(m.properties.headers ?? {}, m.content.toString(), hook.secret, { eventId: ev.id, eventType: 'message.sent' });
      await deliveryIn(a, hook, 'success');

      const metrics = (await a.http.get('/api/v1/events/metrics?window=5m').set(org.auth).expect(200)).body;
      assert.deepEqual(metrics.byTransport, { amqp: { successful: 1, failed: 0 } });
      const text = (await a.http.get('/metrics').set('Authorization', `Bearer ${ADMIN_TOKEN}`).expect(200)).text;
      const sample = (series: string) =>
        Number(
          text
            .split('\n')
            .find((l) => l.startsWith(`${series} `))
            ?.split(' ')[1],
        );
      assert.equal(sample('humana_webhook_deliveries_total{outcome="success",transport="amqp"}'), 1);
      assert.equal(sample('humana_webhook_attempt_duration_seconds_count{outcome="success",transport="amqp"}'), 1);
      assert.equal(sample('humana_webhook_delivery_latency_seconds_count{transport="amqp"}'), 1);
      assert.ok(!text.includes('transport="http"'), 'no http deliveries were made');
    });

    test('A/B variant URLs are sealed as a whole and masked in reads; a PUT of the masked view keeps their credentials', async () => {
      const org = await createOrg(app!);
      const variant = `${BROKER}/?exchange=${exchange}&routingKey=variant.{type}`;
      const hook = await destinationHook(app!, org, `${BROKER}/?exchange=${exchange}&routingKey=main`, {
        events: ['message.sent'],
        variants: [{ url: variant, weight: 1 }],
      });
      const raw = await openRaw(db.url);
      const [row] = await raw.query('SELECT variants FROM webhooks WHERE id = ?', [hook.id]);
      await raw.close();
      assertSealedUrl(row.variants as string);
      const view = (await app!.http.get(`/api/v1/webhooks/${hook.id}`).set(org.auth).expect(200)).body;
      assert.deepEqual(view.variants, [{ url: variant.replace('guest:guest@', 'guest:***@'), weight: 1 }]);
      const { id: _id, transport: _t, createdAt: _c, updatedAt: _u, health: _h, paused: _p, transformHealth: _th, ...config } = view;
      await app!.http
        .put(`/api/v1/webhooks/${hook.id}`)
        .set(org.auth)
        .send({ ...config, description: 'edited' })
        .expect(200);
      const ev = await publish(app!, org, 'message.sent');
      const m = (await messageFor(ev.id))!;
      assert.equal(m.fields.routingKey, 'variant.message.sent');
    });

    test('a URL stored in plaintext by an older version is sealed by the next start and still delivers', async () => {
      await app?.stop();
      const org = await createOrg(await start());
      const id = `wh_legacy${randomBytes(4).toString('hex')}`;
      const url = `${BROKER}/?exchange=${exchange}&routingKey=legacy.{type}`;
      await app!.stop();
      await insertPlaintextWebhook(db.url, {
        id,
        organizationId: org.id,
        url,
        events: ['message.sent'],
        secret: `whsec_${randomBytes(24).toString('base64')}`,
      });
      assert.equal(await storedUrl(db.url, id), url);

      const a = await start();
      assertSealedUrl(await storedUrl(db.url, id));
      const view = (await a.http.get(`/api/v1/webhooks/${id}`).set(org.auth).expect(200)).body;
      assert.equal(view.url, url.replace('guest:guest@', 'guest:***@'));
      const ev = await publish(a, org, 'message.sent');
      const m = (await messageFor(ev.id))!;
      assert.equal(m.fields.routingKey, 'legacy.message.sent');
    });
  });
}
