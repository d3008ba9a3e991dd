import { randomBytes } from 'node:crypto';
import amqp from 'amqplib';
import { BOOTSTRAP_KEY } from '../../test/support/launcher.js';
import { nowMs, sleep } from '../../test/support/time.js';
import type { BenchOptions } from '../args.js';
import { benchEvent, scheduledMsOf } from '../lib/events.js';
import { Latency } from '../lib/histogram.js';
import { progress, scenarioLine, type ScenarioLine } from '../lib/report.js';
import { LoadProcess } from '../lib/rpc.js';
import type { PublisherMethods } from '../load/publisher.js';
import { withStack } from './context.js';

const load = (file: string) => new URL(`../load/${file}`, import.meta.url);
/** RABBITMQ_URL: the broker the scenario publishes to (default the local one). */
const BROKER = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/** What the consumer saw: unique messages by routing key + message id, and their latency from the scheduled publish. */
class Tally {
  readonly seen = new Set<string>();
  duplicates = 0;
  latency = Latency.create();
  firstMs = 0;
  lastMs = 0;

  add(m: amqp.ConsumeMessage): void {
    const key = `${m.fields.routingKey}|${String(m.properties.messageId)}`;
    if (this.seen.has(key)) return void this.duplicates++;
    this.seen.add(key);
    const now = nowMs();
    this.firstMs ||= now;
    this.lastMs = now;
    let scheduled: number | undefined;
    try {
      scheduled = scheduledMsOf((JSON.parse(m.content.toString()) as { data?: unknown }).data);
    } catch {
      scheduled = undefined;
    }
    if (scheduled !== undefined) this.latency.record(now - scheduled);
  }

  async until(n: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.seen.size < n && Date.now() < deadline) await sleep(50);
  }
}

/**
 * `amqp`: events published at a fixed rate to N webhooks whose URLs are a RabbitMQ exchange (one routing key each);
 * a consumer on a queue bound to all of them measures arrival − scheduled publish time. Baseline: a bare amqplib
 * publish-with-confirm loop of the same envelopes at the same rate, to the same exchange and consumer. Needs RabbitMQ
 * (RABBITMQ_URL); not in the default scenario list.
 */
export async function amqpScenario(o: BenchOptions): Promise<ScenarioLine> {
  const rate = o.rate ?? 500;
  const hooks = o.webhooks ?? 4;
  const batch = o.batch ?? 10;
  const exchange = `humana-bench-${randomBytes(4).toString('hex')}`;
  const conn = await amqp.connect(BROKER);
  try {
    const ch = await conn.createChannel();
    await ch.assertExchange(exchange, 'topic', { autoDelete: true });
    const { queue } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(queue, exchange, 'bench.#');
    let tally = new Tally();
    await ch.consume(queue, (m) => m && tally.add(m), { noAck: true });

    const line = await withStack(o, async (stack) => {
      const api = stack.apiUrls()[0];
      for (let i = 0; i < hooks; i++) {
        const res = await fetch(`${api}/api/v1/webhooks`, {
          method: 'POST',
          headers: { authorization: `Bearer ${BOOTSTRAP_KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            url: `${BROKER}/?exchange=${exchange}&routingKey=bench.${i}.{data.companionId}`,
            events: ['message.sent'],
          }),
        });
        if (res.status !== 201) throw new Error(`webhook create: ${res.status} ${await res.text()}`);
      }
      const gen = LoadProcess.start<PublisherMethods>(load('publisher.js'), 'publisher');
      try {
        const target = { urls: stack.apiUrls(), apiKey: BOOTSTRAP_KEY, batch, companions: ['comp-0'], collectIds: false };
        progress(`amqp: warm-up, then ${rate} events/s × ${hooks} AMQP webhooks for ${o.seconds} s`);
        const warm = await gen.call('fixedRate', { ...target, rate, seconds: 1, maxInFlight: 32 });
        await tally.until(warm.acked * hooks, 30_000);
        tally = new Tally();
        const fixed = await gen.call('fixedRate', { ...target, rate, seconds: o.seconds, maxInFlight: 32 });
        await tally.until(fixed.acked * hooks, 60_000);
        return { fixed, measured: tally };
      } finally {
        await gen.stop();
      }
    });

    progress('amqp: baseline bare amqplib publish-with-confirm loop');
    tally = new Tally();
    const base = await confirmLoop(conn, exchange, rate * hooks, Math.max(2, o.seconds / 2));
    await tally.until(base.published, 30_000);
    const { fixed, measured } = line;
    const expected = fixed.acked * hooks;
    return scenarioLine(
      'amqp',
      { events: measured.seen.size, seconds: (measured.lastMs - fixed.firstScheduledMs) / 1000, latency: measured.latency },
      expected - measured.seen.size,
      'bare amqplib ConfirmChannel publish loop (persistent, one confirm per message) to the same exchange and consumer, same delivery rate',
      { events: tally.seen.size, seconds: (tally.lastMs - tally.firstMs) / 1000, latency: tally.latency },
      {
        unit: 'deliveries',
        rate,
        webhooks: hooks,
        eventsPublished: fixed.acked,
        latencyOf: 'arrival at the consumer - scheduled publish time',
        duplicates: measured.duplicates,
        baselineLost: base.published - tally.seen.size,
      },
    );
  } finally {
    await conn.close();
  }
}

/** Publishes `rate` envelopes per second for `seconds` on a confirm channel, each awaited (open loop, bounded in flight). */
async function confirmLoop(conn: amqp.ChannelModel, exchange: string, rate: number, seconds: number): Promise<{ published: number }> {
  const ch = await conn.createConfirmChannel();
  const total = Math.round(rate * seconds);
  const start = nowMs();
  const inFlight = new Set<Promise<void>>();
  let published = 0;
  for (let seq = 0; seq < total; seq++) {
    const scheduled = start + (seq * 1000) / rate;
    const wait = scheduled - nowMs();
    if (wait > 1) await sleep(wait);
    if (inFlight.size >= 256) await Promise.race(inFlight);
    const event = {
      id: `evt_base_${seq}`,
      organizationId: 'org_default',
      timestamp: new Date().toISOString(),
      ...benchEvent(seq, scheduled, 'comp-0'),
    };
    const p = new Promise<void>((resolve, reject) =>
      ch.publish(
        exchange,
        `bench.base.comp-0`,
        Buffer.from(JSON.stringify(event)),
        { persistent: true, messageId: event.id, contentType: 'application/json' },
        (err) => (err ? reject(err) : resolve()),
      ),
    ).then(() => {
      published++;
      inFlight.delete(p);
    });
    inFlight.add(p);
  }
  await Promise.all(inFlight);
  await ch.close();
  return { published };
}
