import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import amqp from 'amqplib';
import { printAccounting } from '../lib/accounting.js';
import { TcpProxy } from '../lib/tcp-proxy.js';
import { BOOTSTRAP_KEY } from '../../test/support/launcher.js';
import { nowMs, sleep, waitFor } from '../../test/support/time.js';
import { faultSeconds, startRig, type FaultRig } from './support.js';

const RABBIT = { host: '127.0.0.1', port: 5672 };

/**
 * The broker connection of an AMQP destination is cut mid-run: the workers reach RabbitMQ through a TCP proxy that is
 * dropped (every connection destroyed, new ones refused) and restored. The machine's RabbitMQ is shared, so it is not
 * restarted; to the worker's client a dropped proxy looks the same as a broker restart.
 */
describe('fault: AMQP broker connection cut mid-run (TCP proxy dropped, then restored)', () => {
  let rig: FaultRig;
  let proxy: TcpProxy;
  let conn: amqp.ChannelModel;
  const exchange = `humana-fault-${randomBytes(4).toString('hex')}`;
  const seen = new Map<string, number>();

  before(async () => {
    proxy = await TcpProxy.start(RABBIT.host, RABBIT.port);
    conn = await amqp.connect(`amqp://guest:guest@${RABBIT.host}:${RABBIT.port}`);
    const ch = await conn.createChannel();
    await ch.assertExchange(exchange, 'direct', { autoDelete: true });
    const { queue } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(queue, exchange, 'fault');
    await ch.consume(queue, (m) => m && seen.set(String(m.properties.messageId), (seen.get(String(m.properties.messageId)) ?? 0) + 1), {
      noAck: true,
    });
    rig = await startRig({ roles: ['api', 'worker'] });
  });
  after(async () => {
    await rig?.stop();
    await conn?.close();
    await proxy?.close();
  });

  test('nothing lost: every acknowledged event reaches the queue at least once', async () => {
    const api = rig.stack.apiUrls()[0];
    const res = await fetch(`${api}/api/v1/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${BOOTSTRAP_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        url: `amqp://guest:guest@127.0.0.1:${proxy.port}/?exchange=${exchange}&routingKey=fault`,
        events: ['message.sent'],
        retry: { maxAttempts: 10, backoffMultiplier: 2, maxDelay: 2 },
        timeoutMs: 2000,
      }),
    });
    assert.equal(res.status, 201, await res.text());
    const seconds = faultSeconds();
    const publishing = rig.publish({ rate: 200, maxInFlight: 16 });
    await sleep((seconds * 1000) / 3);
    const downAt = nowMs();
    await proxy.drop();
    await sleep(Math.min(3000, (seconds * 1000) / 4));
    await proxy.restore();
    const upAt = nowMs();
    const outcome = await publishing;
    const missing: string[] = await waitFor(
      () => {
        const m = outcome.ids.filter((id) => !seen.has(id));
        return m.length === 0 ? m : null;
      },
      60_000,
      250,
    )
      .then((m) => m ?? [])
      .catch(() => outcome.ids.filter((id) => !seen.has(id)));
    const duplicates = [...seen.values()].reduce((n, c) => n + c - 1, 0);
    const dlq = await rig.dlq();
    printAccounting(
      'broker-restart',
      {
        published: outcome.offered,
        acknowledged: outcome.acked,
        delivered: seen.size,
        deadLettered: dlq.length,
        duplicates,
        lost: missing.length,
      },
      { outageMs: Math.round(upAt - downAt), statuses: outcome.statuses },
    );
    assert.ok(outcome.acked > 0);
    assert.deepEqual(missing.slice(0, 10), [], `${missing.length} acknowledged events never reached the queue`);
    assert.equal(dlq.length, 0, 'no delivery gave up');
  });
});
