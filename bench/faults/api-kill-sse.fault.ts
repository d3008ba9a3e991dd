import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { duplicateCount, missingIds, printAccounting } from '../lib/accounting.js';
import { LoadProcess } from '../lib/rpc.js';
import type { PoolMethods, PoolStats } from '../load/subscribers.js';
import { BOOTSTRAP_KEY } from '../../test/support/launcher.js';
import { sleep } from '../../test/support/time.js';
import { faultSeconds, loadScript, startRig, type FaultRig } from './support.js';
const CLIENTS = 40;
const COMPANIONS = ['comp-1', 'comp-2'];

describe('fault: an API process killed (SIGKILL) while SSE clients are connected', () => {
  let rig: FaultRig;
  let pool: LoadProcess<PoolMethods>;
  before(async () => {
    rig = await startRig({ roles: ['api', 'api', 'worker'] });
    pool = LoadProcess.start<PoolMethods>(loadScript('subscribers.js'), 'sse-pool');
  });
  after(async () => {
    await pool?.call('close', undefined).catch(() => undefined);
    await pool?.stop();
    await rig?.stop();
  });

  test('the clients of the killed process resume on the other one with Last-Event-ID and miss nothing', async () => {
    const { stack } = rig;
    const [victim, survivor] = stack.procs.filter((p) => p.role === 'api');
    // Half the clients on each API process; a dropped client reconnects to the next URL with its last event id.
    const opened = await pool.call('open', {
      transport: 'sse',
      urls: [victim.url, survivor.url],
      count: CLIENTS,
      apiKey: BOOTSTRAP_KEY,
      companions: COMPANIONS,
      collectIds: true,
      reconnect: true,
    });
    assert.equal(opened.failed, 0);
    const seconds = faultSeconds();
    // Publishing goes to the surviving process so every publish is answered; the fault under test is the stream's.
    const publishing = rig.publish({ urls: [survivor.url], companions: COMPANIONS, rate: 200, maxInFlight: 8 });
    await sleep((seconds * 1000) / 3);
    await victim.kill('SIGKILL');
    const outcome = await publishing;

    let stats: PoolStats = await pool.call('stats', { ids: false });
    const expected = (s: PoolStats) => s.connections.reduce((n, c) => n + (outcome.perCompanion[c.companion] ?? 0), 0);
    for (let i = 0; i < 200 && stats.received - stats.notIncreasing < expected(stats); i++) {
      await sleep(50);
      stats = await pool.call('stats', { ids: false });
    }
    stats = await pool.call('stats', { ids: true });

    let lost = 0;
    let duplicates = 0;
    let unordered = 0;
    for (const c of stats.connections) {
      const ids = c.ids ?? [];
      lost += missingIds(outcome.idsByCompanion[c.companion] ?? [], new Set(ids)).length;
      duplicates += duplicateCount(ids);
      unordered += ids.filter((id, i) => i > 0 && id <= ids[i - 1]).length;
    }
    const resumed = stats.connections.filter((c) => c.reconnects > 0).length;
    printAccounting(
      'api-kill-sse',
      { published: outcome.offered, acknowledged: outcome.acked, delivered: stats.received, deadLettered: 0, duplicates, lost },
      { clients: CLIENTS, resumedClients: resumed, reconnects: stats.reconnects, expectedMessages: expected(stats), outOfOrder: unordered },
    );

    assert.equal(outcome.acked, outcome.offered);
    assert.equal(resumed, CLIENTS / 2, 'every client of the killed process reconnected (and only those)');
    assert.equal(stats.open, CLIENTS, 'all clients connected at the end');
    assert.equal(lost, 0, 'no acknowledged event missed by any client');
    assert.equal(duplicates, 0, 'no event twice on any client');
    assert.equal(unordered, 0, 'events in log order on every client');
  });
});
