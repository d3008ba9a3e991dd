import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { getQueueToken } from '@nestjs/bullmq';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { Queue } from 'bullmq';
import type { DataSource } from 'typeorm';
import { eventIdFromStreamId } from '../../src/common/ids.js';
import { EventRecord } from '../../src/events/event-record.entity.js';
import { exampleEvents } from '../../src/events/catalog.js';
import { MAINTENANCE_QUEUE, MaintenanceRegistry } from '../../src/scheduling/maintenance-registry.js';
import { createOrg, startTestApp, type TestApp } from '../support/launcher.js';
import { waitFor } from '../support/time.js';

describe('history retention and API docs', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ env: { EVENT_RETENTION_DAYS: '7' } });
  });
  after(() => app.close());

  test('a BullMQ job scheduler purges history older than EVENT_RETENTION_DAYS, keeping newer events', async () => {
    const org = await createOrg(app);
    const fresh = await app.http
      .post('/api/v1/events')
      .set(org.auth)
      .send({ type: 'companion.activated', data: exampleEvents['companion.activated'] })
      .expect(202);
    await waitFor(async () => (await app.http.get(`/api/v1/events/${fresh.body.id}`).set(org.auth)).status === 200);
    const ds = app.running.app.get<DataSource>(getDataSourceToken());
    const oldMs = Date.now() - 8 * 24 * 3600 * 1000;
    const oldId = eventIdFromStreamId(`${oldMs}-0`);
    await ds.getRepository(EventRecord).insert({
      id: oldId,
      organizationId: org.id,
      type: 'companion.activated',
      companionId: 'c',
      userId: null,
      timestamp: new Date(oldMs).toISOString(),
      data: '{}',
    });
    await app.http.get(`/api/v1/events/${oldId}`).set(org.auth).expect(200);

    const queue = app.running.app.get<Queue>(getQueueToken(MAINTENANCE_QUEUE));
    const scheduler = await queue.getJobScheduler('purge-history');
    assert.ok(scheduler, 'purge-history is scheduled');
    assert.equal(Number(scheduler.every), 3600_000);

    const result = await app.running.app.get(MaintenanceRegistry).get('purge-history')!.run();
    assert.deepEqual(result, { purged: 1 });
    await app.http.get(`/api/v1/events/${oldId}`).set(org.auth).expect(404);
    await app.http.get(`/api/v1/events/${fresh.body.id}`).set(org.auth).expect(200);
  });

  test('OpenAPI is generated from the code at /docs', async () => {
    const res = await app.http.get('/docs-json').expect(200);
    assert.match(res.body.openapi, /^3\./);
    for (const p of ['/api/v1/events', '/api/v1/events/batch', '/api/v1/events/history', '/api/v1/event-types'])
      assert.ok(res.body.paths[p], p);
    await app.http.get('/docs').expect(200).expect('content-type', /html/);
  });
});
