import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../support/launcher.js';

const basic = `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}`;

describe('Bull Board: state-changing requests must be same-origin (CSRF)', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(() => app.close());

  const paused = async (): Promise<boolean[]> => {
    const res = await app.http
      .get('/admin/queues/api/queues')
      .set('Authorization', basic)
      .set('Origin', 'https://evil.example')
      .expect(200);
    return res.body.queues.map((q: { isPaused: boolean }) => q.isPaused);
  };

  test('a forged Origin, a foreign Referer, or no Origin with Basic auth → 403 JSON, and nothing is paused', async () => {
    const attempts = [
      { Authorization: basic, Origin: 'https://evil.example' },
      { Authorization: basic, Referer: 'https://evil.example/page' },
      { Authorization: basic },
      { Authorization: `Bearer ${ADMIN_TOKEN}`, Origin: 'null' },
    ];
    for (const headers of attempts) {
      const res = await app.http.put('/admin/queues/api/queues/pause').set(headers);
      assert.equal(res.status, 403, `${JSON.stringify(headers)} → ${res.status}`);
      assert.equal(res.body.error.code, 'cross_origin_refused');
      assert.ok(Array.isArray(res.body.error.details));
    }
    assert.ok((await paused()).length > 0);
    assert.ok(
      (await paused()).every((p) => !p),
      'no queue was paused',
    );
  });

  test('same-origin (Origin or Referer) with Basic, and Bearer without Origin, pass the check', async () => {
    const host = new URL(app.url).host;
    await app.http.put('/admin/queues/api/queues/pause').set({ Authorization: basic, Origin: app.url }).expect(200);
    assert.ok((await paused()).every((p) => p));
    await app.http
      .put('/admin/queues/api/queues/resume')
      .set({ Authorization: basic, Referer: `http://${host}/admin/queues/` })
      .expect(200);
    assert.ok((await paused()).every((p) => !p));
    await app.http
      .put('/admin/queues/api/queues/pause')
      .set({ Authorization: `Bearer ${ADMIN_TOKEN}` })
      .expect(200);
    await app.http
      .put('/admin/queues/api/queues/resume')
      .set({ Authorization: `Bearer ${ADMIN_TOKEN}` })
      .expect(200);
    assert.ok((await paused()).every((p) => !p));
  });
});
