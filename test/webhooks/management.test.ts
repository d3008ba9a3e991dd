import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_TOKEN, createOrg, databases, startTestApp, type TestApp, type TestOrg } from '../support/launcher.js';

const detailsOf = (body: { error: { details: { field: string; message: string }[] } }) => body.error.details.map((d) => d.field);

for (const db of databases()) {
  describe(`webhook management API (${db})`, () => {
    let app: TestApp;
    let org: TestOrg;
    let other: TestOrg;
    const url = 'http://127.0.0.1:9/hook';
    before(async () => {
      app = await startTestApp({ db });
      org = await createOrg(app);
      other = await createOrg(app);
    });
    after(() => app.close());

    const create = (body: Record<string, unknown>, who = org) => app.http.post('/api/v1/webhooks').set(who.auth).send(body);

    test('create with defaults: 201, wh_ id, generated whsec_ secret returned once, never in reads', async () => {
      const res = await create({ url, events: ['message.sent', 'message.*'] }).expect(201);
      assert.match(res.body.id, /^wh_/);
      assert.match(res.body.secret, /^whsec_[A-Za-z0-9+/]{32,}={0,2}$/);
      assert.equal(Buffer.from(res.body.secret.slice(6), 'base64').length, 24);
      assert.deepEqual(res.body.retry, { maxAttempts: 3, backoffMultiplier: 2, maxDelay: 300 });
      assert.equal(res.body.enabled, true);
      assert.equal(res.body.timeoutMs, 10000);
      assert.deepEqual(res.body.headers, {});
      assert.equal(res.body.filters, null);
      const got = await app.http.get(`/api/v1/webhooks/${res.body.id}`).set(org.auth).expect(200);
      assert.equal(got.body.secret, undefined);
      assert.deepEqual(got.body.events, ['message.sent', 'message.*']);
      const list = await app.http.get('/api/v1/webhooks').set(org.auth).expect(200);
      assert.ok(list.body.webhooks.every((w: Record<string, unknown>) => w.secret === undefined));
      const secret = await app.http.get(`/api/v1/webhooks/${res.body.id}/secret`).set(org.auth).expect(200);
      assert.equal(secret.body.secret, res.body.secret);
    });

    test('the seed body (secret, headers, filters, retry) round-trips', async () => {
      const body = {
        url: 'https://your-app.example/humana/webhook',
        events: ['companion.created', 'companion.updated', 'message.sent', 'message.received'],
        secret: 'your-webhook-secret-0123',
        headers: { 'X-Custom-Header': 'value' },
        filters: { companionId: ['comp-123', 'comp-456'], userId: ['user-*'] },
        retry: { maxAttempts: 3, backoffMultiplier: 2, maxDelay: 300 },
        description: 'seed example',
      };
      const res = await create(body).expect(201);
      assert.equal(res.body.secret, body.secret);
      for (const k of ['url', 'events', 'headers', 'filters', 'retry', 'description'] as const) assert.deepEqual(res.body[k], body[k], k);
    });

    test('validation: every bad field named in details', async () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ events: ['message.sent'] }, 'url'],
        [{ url: '/relative', events: ['message.sent'] }, 'url'],
        [{ url: 'file:///etc/passwd', events: ['message.sent'] }, 'url'],
        [{ url: 'ftp://x.example/a', events: ['message.sent'] }, 'url'],
        [{ url, events: [] }, 'events'],
        [{ url, events: ['nope.happened'] }, 'events.0'],
        [{ url, events: ['message.sent', 'message.nope'] }, 'events.1'],
        [{ url, events: 'message.sent' }, 'events'],
        [{ url, events: ['*'], headers: { 'X-Ok': 'a\r\nX-Injected: 1' } }, 'headers.X-Ok'],
        [{ url, events: ['*'], headers: { 'X-Bad\r\nName': 'v' } }, 'headers.X-Bad\r\nName'],
        [{ url, events: ['*'], headers: { 'X-Humana-Signature': 'forged' } }, 'headers.X-Humana-Signature'],
        [{ url, events: ['*'], headers: { 'webhook-id': 'x' } }, 'headers.webhook-id'],
        [{ url, events: ['*'], headers: { 'Content-Type': 'text/plain' } }, 'headers.Content-Type'],
        [{ url, events: ['*'], headers: { Host: 'evil' } }, 'headers.Host'],
        [{ url, events: ['*'], headers: { 'content-length': '1' } }, 'headers.content-length'],
        [{ url, events: ['*'], retry: { maxAttempts: 0 } }, 'retry.maxAttempts'],
        [{ url, events: ['*'], retry: { maxAttempts: 21 } }, 'retry.maxAttempts'],
        [{ url, events: ['*'], retry: { backoffMultiplier: 0.5 } }, 'retry.backoffMultiplier'],
        [{ url, events: ['*'], retry: { backoffMultiplier: 11 } }, 'retry.backoffMultiplier'],
        [{ url, events: ['*'], retry: { maxDelay: 0 } }, 'retry.maxDelay'],
        [{ url, events: ['*'], retry: { maxDelay: 86401 } }, 'retry.maxDelay'],
        [{ url, events: ['*'], filters: { userId: [] } }, 'filters.userId'],
        [{ url, events: ['*'], filters: { userId: 'user-1' } }, 'filters.userId'],
        [{ url, events: ['*'], secret: 'short' }, 'secret'],
        [{ url, events: ['*'], timeoutMs: 0 }, 'timeoutMs'],
        [{ url, events: ['*'], transform: '{"a": ' }, 'transform'],
        [{ url, events: ['*'], batch: { maxSize: 0, maxWaitMs: 10 } }, 'batch.maxSize'],
        [{ url, events: ['*'], unknownField: 1 }, '(root)'],
        [{ url, events: ['*'], filters: { constructor: ['x'] } }, 'filters.constructor'],
        [{ url, events: ['*'], headers: { constructor: 'x' } }, 'headers.constructor'],
      ];
      for (const [body, field] of cases) {
        const res = await create(body);
        assert.equal(res.status, 400, `${JSON.stringify(body)} → ${res.status}`);
        assert.equal(res.body.error.code, 'validation_error');
        assert.ok(
          detailsOf(res.body).includes(field),
          `${JSON.stringify(body)}: expected ${field} in ${JSON.stringify(res.body.error.details)}`,
        );
        assert.ok(res.body.error.message.length > 0);
      }
      const list = await app.http.get('/api/v1/webhooks?limit=200').set(org.auth).expect(200);
      assert.ok(!list.body.webhooks.some((w: { url: string }) => w.url.startsWith('file:')), 'nothing stored');
    });

    test('PUT replaces, PATCH merges (retry partially), secrets cannot change there; 404 for unknown ids', async () => {
      const { body: w } = await create({
        url,
        events: ['message.sent'],
        headers: { 'X-A': '1' },
        retry: { maxAttempts: 5, backoffMultiplier: 3, maxDelay: 60 },
      }).expect(201);
      const put = await app.http
        .put(`/api/v1/webhooks/${w.id}`)
        .set(org.auth)
        .send({ url: `${url}2`, events: ['chat.*'] })
        .expect(200);
      assert.equal(put.body.url, `${url}2`);
      assert.deepEqual(put.body.events, ['chat.*']);
      assert.deepEqual(put.body.headers, {}, 'PUT replaces the whole configuration');
      assert.deepEqual(put.body.retry, { maxAttempts: 3, backoffMultiplier: 2, maxDelay: 300 });
      const patch = await app.http
        .patch(`/api/v1/webhooks/${w.id}`)
        .set(org.auth)
        .send({ retry: { maxAttempts: 7 }, description: 'patched', enabled: false })
        .expect(200);
      assert.deepEqual(patch.body.retry, { maxAttempts: 7, backoffMultiplier: 2, maxDelay: 300 });
      assert.equal(patch.body.description, 'patched');
      assert.equal(patch.body.enabled, false);
      assert.deepEqual(patch.body.events, ['chat.*']);
      const bad = await app.http.patch(`/api/v1/webhooks/${w.id}`).set(org.auth).send({ secret: 'another-secret-012345' }).expect(400);
      assert.deepEqual(detailsOf(bad.body), ['secret']);
      const badPatch = await app.http
        .patch(`/api/v1/webhooks/${w.id}`)
        .set(org.auth)
        .send({ headers: { 'X-Humana-Event': 'x' } })
        .expect(400);
      assert.deepEqual(detailsOf(badPatch.body), ['headers.X-Humana-Event']);
      const unchanged = await app.http.get(`/api/v1/webhooks/${w.id}`).set(org.auth).expect(200);
      assert.deepEqual(unchanged.body, patch.body, 'a refused change leaves the webhook as it was');
      await app.http
        .put('/api/v1/webhooks/wh_nope')
        .set(org.auth)
        .send({ url, events: ['*'] })
        .expect(404);
      await app.http.delete(`/api/v1/webhooks/${w.id}`).set(org.auth).expect(204);
      await app.http.get(`/api/v1/webhooks/${w.id}`).set(org.auth).expect(404);
      await app.http.delete(`/api/v1/webhooks/${w.id}`).set(org.auth).expect(404);
    });

    test('list is paginated with a cursor, oldest first, only the caller organization', async () => {
      const fresh = await createOrg(app);
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await create({ url: `${url}/${i}`, events: ['*'] }, fresh).expect(201)).body.id);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const res: { body: { webhooks: { id: string }[]; nextCursor: string | null } } = await app.http
          .get(`/api/v1/webhooks?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
          .set(fresh.auth)
          .expect(200);
        assert.ok(res.body.webhooks.length <= 2);
        seen.push(...res.body.webhooks.map((w) => w.id));
        cursor = res.body.nextCursor;
      } while (cursor);
      assert.deepEqual(seen, ids);
      await app.http.get('/api/v1/webhooks?limit=0').set(fresh.auth).expect(400);
    });

    test('secret rotation: new secret, previous valid 24 h, audited without secrets', async () => {
      const { body: w } = await create({ url, events: ['*'] }).expect(201);
      const rot = await app.http.post(`/api/v1/webhooks/${w.id}/secret/rotate`).set(org.auth).send({}).expect(200);
      assert.match(rot.body.secret, /^whsec_/);
      assert.notEqual(rot.body.secret, w.secret);
      const hours = (Date.parse(rot.body.previousSecretExpiresAt) - Date.now()) / 3600_000;
      assert.ok(hours > 23.9 && hours <= 24, String(hours));
      const given = await app.http
        .post(`/api/v1/webhooks/${w.id}/secret/rotate`)
        .set(org.auth)
        .send({ secret: 'my-own-new-secret-123456' })
        .expect(200);
      assert.equal(given.body.secret, 'my-own-new-secret-123456');
      const read = await app.http.get(`/api/v1/webhooks/${w.id}/secret`).set(org.auth).expect(200);
      assert.equal(read.body.secret, 'my-own-new-secret-123456');
      await app.http.post(`/api/v1/webhooks/${w.id}/secret/rotate`).set(org.auth).send({ secret: 'x' }).expect(400);
      const audit = await app.http.get('/api/v1/audit-log?limit=1000').set(org.auth).expect(200);
      const text = JSON.stringify(audit.body);
      for (const s of [w.secret, rot.body.secret, 'my-own-new-secret-123456']) assert.ok(!text.includes(s), 'no secret in the audit log');
      const actions = audit.body.entries
        .filter((e: { resourceId: string }) => e.resourceId === w.id)
        .map((e: { action: string }) => e.action);
      assert.deepEqual(actions.sort(), ['webhook.created', 'webhook.secret_rotated', 'webhook.secret_rotated']);
      assert.ok(
        audit.body.entries
          .filter((e: { action: string }) => e.action.startsWith('webhook.'))
          .every((e: { actor: string }) => e.actor.startsWith('key_')),
      );
    });

    test('audit: created, updated (before/after), deleted', async () => {
      const { body: w } = await create({ url, events: ['*'] }).expect(201);
      await app.http.patch(`/api/v1/webhooks/${w.id}`).set(org.auth).send({ description: 'd2' }).expect(200);
      await app.http.delete(`/api/v1/webhooks/${w.id}`).set(org.auth).expect(204);
      const audit = await app.http.get('/api/v1/audit-log?limit=1000').set(org.auth).expect(200);
      const mine = audit.body.entries.filter((e: { resourceId: string }) => e.resourceId === w.id);
      const updated = mine.find((e: { action: string }) => e.action === 'webhook.updated');
      assert.equal(updated.before.description, '');
      assert.equal(updated.after.description, 'd2');
      assert.deepEqual(mine.map((e: { action: string }) => e.action).sort(), ['webhook.created', 'webhook.deleted', 'webhook.updated']);
    });

    test('tenancy: another organization gets 404 for every webhook route, and never sees it in lists', async () => {
      const { body: w } = await create({ url, events: ['*'] }).expect(201);
      const o = other.auth;
      await app.http.get(`/api/v1/webhooks/${w.id}`).set(o).expect(404);
      await app.http
        .put(`/api/v1/webhooks/${w.id}`)
        .set(o)
        .send({ url, events: ['*'] })
        .expect(404);
      await app.http.patch(`/api/v1/webhooks/${w.id}`).set(o).send({ enabled: false }).expect(404);
      await app.http.delete(`/api/v1/webhooks/${w.id}`).set(o).expect(404);
      await app.http.get(`/api/v1/webhooks/${w.id}/secret`).set(o).expect(404);
      await app.http.post(`/api/v1/webhooks/${w.id}/secret/rotate`).set(o).send({}).expect(404);
      await app.http.post(`/api/v1/webhooks/${w.id}/test`).set(o).expect(404);
      await app.http.get(`/api/v1/webhooks/${w.id}/deliveries`).set(o).expect(404);
      await app.http.get(`/api/v1/webhooks/${w.id}/deliveries/del_x`).set(o).expect(404);
      await app.http.post(`/api/v1/webhooks/${w.id}/deliveries/del_x/replay`).set(o).expect(404);
      await app.http
        .post(`/api/v1/webhooks/${w.id}/replay`)
        .set(o)
        .send({ from: new Date(0).toISOString(), to: new Date().toISOString() })
        .expect(404);
      const list = await app.http.get('/api/v1/webhooks').set(o).expect(200);
      assert.ok(!list.body.webhooks.some((x: { id: string }) => x.id === w.id));
      const still = await app.http.get(`/api/v1/webhooks/${w.id}`).set(org.auth).expect(200);
      assert.equal(still.body.enabled, true, 'untouched');
    });

    test('scopes: read-only keys cannot write or read secrets; no key → 401', async () => {
      const reader = await createOrg(app, 'reader', ['webhooks:read']);
      await app.http
        .post('/api/v1/webhooks')
        .set(reader.auth)
        .send({ url, events: ['*'] })
        .expect(403);
      await app.http.get('/api/v1/webhooks').set(reader.auth).expect(200);
      await app.http.get('/api/v1/webhooks').expect(401);
      await app.http.post('/api/v1/dlq/retry').set(reader.auth).send({}).expect(403);
    });

    test('transform preview: the body a JSONata expression makes; errors are 400 naming transform', async () => {
      const res = await app.http
        .post('/api/v1/webhooks/transform/test')
        .set(org.auth)
        .send({
          transform: '{"chatId": data.sessionId, "message": data.response, "type": type}',
          event: { type: 'message.received', data: { sessionId: 's-1', response: 'hello' } },
        })
        .expect(200);
      assert.deepEqual(res.body.body, { chatId: 's-1', message: 'hello', type: 'message.received' });
      const bad = await app.http
        .post('/api/v1/webhooks/transform/test')
        .set(org.auth)
        .send({ transform: '$undefinedFn()', event: { type: 'x', data: {} } })
        .expect(400);
      assert.deepEqual(detailsOf(bad.body), ['transform']);
      const slow = await app.http
        .post('/api/v1/webhooks/transform/test')
        .set(org.auth)
        .send({ transform: '( $f := function($n){ $n = 0 ? 0 : $f($n - 1) + $f($n - 1) }; $f(40) )', event: { type: 'x', data: {} } })
        .expect(400);
      assert.match(slow.body.error.message, /transform/);
    });

    test('Bull Board at /admin/queues: admin token as Bearer or Basic password; anything else 401', async () => {
      const denied = await app.http.get('/admin/queues').expect(401);
      assert.match(denied.headers['www-authenticate'], /^Basic/);
      await app.http.get('/admin/queues').set('Authorization', 'Bearer wrong-token-0123456789').expect(401);
      await app.http.get('/admin/queues').set(org.auth).expect(401);
      const page = await app.http.get('/admin/queues').set('Authorization', `Bearer ${ADMIN_TOKEN}`).expect(200);
      assert.match(page.text, /<html/i);
      const basic = `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}`;
      const api = await app.http.get('/admin/queues/api/queues').set('Authorization', basic).expect(200);
      assert.ok(JSON.stringify(api.body).includes('webhook-delivery'));
    });
  });
}
