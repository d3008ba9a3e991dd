import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createOrg, startTestApp, type TestApp, type TestOrg } from '../support/launcher.js';
import { Receiver } from '../support/receiver.js';
import { deliveryIn, dlqOf, hookFor, publish } from './fixtures.js';

describe('SSRF guard (ALLOW_PRIVATE_WEBHOOK_URLS=false)', () => {
  let strict: TestApp;
  /** Same Redis and database, private URLs allowed, API only: stands for a URL that resolved publicly at create time. */
  let lax: TestApp;
  let org: TestOrg;
  let rx: Receiver;
  before(async () => {
    strict = await startTestApp({ env: { ALLOW_PRIVATE_WEBHOOK_URLS: 'false' } });
    lax = await startTestApp({
      redis: strict.redis,
      databaseUrl: strict.databaseUrl,
      env: { ROLE: 'api', ALLOW_PRIVATE_WEBHOOK_URLS: 'true' },
    });
    org = await createOrg(strict);
    rx = await Receiver.start();
  });
  after(async () => {
    await lax.close();
    await strict.close();
    await rx.close();
  });

  test('create refuses loopback, private, link-local, CGNAT, metadata and IPv6 equivalents, and names resolving to them', async () => {
    const port = new URL(rx.url).port;
    const urls = [
      `http://127.0.0.1:${port}/hook`,
      `http://localhost:${port}/hook`,
      'http://169.254.169.254/latest/meta-data/',
      'http://10.0.0.5/hook',
      'http://172.20.1.1/hook',
      'http://192.168.0.10/hook',
      'http://100.64.0.1/hook',
      'http://0.0.0.0/hook',
      'http://2130706433/hook',
      'http://[::1]/hook',
      'http://[::ffff:127.0.0.1]/hook',
      'http://[::ffff:a9fe:a9fe]/hook',
      'http://[fe80::1]/hook',
      'http://[fd00::1]/hook',
      'https://localhost/hook',
    ];
    for (const url of urls) {
      const res = await strict.http
        .post('/api/v1/webhooks')
        .set(org.auth)
        .send({ url, events: ['*'] });
      assert.equal(res.status, 400, `${url} → ${res.status}`);
      assert.deepEqual(
        res.body.error.details.map((d: { field: string }) => d.field),
        ['url'],
        url,
      );
    }
    const list = await strict.http.get('/api/v1/webhooks').set(org.auth).expect(200);
    assert.equal(list.body.webhooks.length, 0);
  });

  test('PUT and PATCH to a private URL are refused too and change nothing', async () => {
    const { body: w } = await lax.http
      .post('/api/v1/webhooks')
      .set(org.auth)
      .send({ url: `${rx.url}/patched`, events: ['quota.*'], enabled: false })
      .expect(201);
    await strict.http.patch(`/api/v1/webhooks/${w.id}`).set(org.auth).send({ url: 'http://169.254.169.254/' }).expect(400);
    await strict.http
      .put(`/api/v1/webhooks/${w.id}`)
      .set(org.auth)
      .send({ url: 'http://[::1]:80/', events: ['*'] })
      .expect(400);
    const got = await strict.http.get(`/api/v1/webhooks/${w.id}`).set(org.auth).expect(200);
    assert.equal(got.body.url, `${rx.url}/patched`);
  });

  test('delivery time: a host that now resolves to 127.0.0.1 is refused after DNS, never contacted, and dead-lettered', async () => {
    const hook = await hookFor(lax, rx.url.replace('127.0.0.1', 'localhost'), {
      events: ['message.*'],
      retry: { maxAttempts: 3, backoffMultiplier: 1, maxDelay: 1 },
    });
    await publish(strict, hook.org, 'message.sent');
    const d = await deliveryIn(strict, hook, 'failed');
    assert.equal(d.attempts, 1, 'a refused address is not retried');
    assert.match(String(d.error), /blocked: .*127\.0\.0\.1.*not allowed/);
    assert.equal(rx.at(hook.path).length, 0);
    const [entry] = await dlqOf(strict, hook);
    assert.match(entry.failureReason, /blocked/);
    const t = await strict.http.post(`/api/v1/webhooks/${hook.id}/test`).set(hook.org.auth).expect(200);
    assert.equal(t.body.success, false);
    assert.match(t.body.error, /blocked/);
    assert.equal(rx.at(hook.path).length, 0);
  });
});
