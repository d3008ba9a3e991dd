import { Queue, Worker, type ConnectionOptions } from 'bullmq';
import { Cluster } from 'ioredis';
import { nowMs } from '../../test/support/time.js';
import { signingKey } from '../../src/webhooks/signing.js';
import { envelopeBody, signedHeaders } from '../lib/delivery-body.js';
import { keepAliveAgent, postJson } from '../lib/http.js';
import { serve } from '../lib/rpc.js';
import { openLoop } from '../lib/schedule.js';

/**
 * The webhooks baseline "bare BullMQ": one job per delivery added with addBulk, processed by a plain BullMQ Worker
 * that signs and POSTs it over keep-alive node:http to the receiver. No event log, no matching, no delivery log.
 * Run `produce` and `work` in two processes (like the app's API and worker).
 */
export interface BullTarget {
  redisUrl: string;
  prefix: string;
  queue: string;
}

export interface ProducePlan extends BullTarget {
  urls: string[];
  /** One job per event to the next URL in turn, instead of one job per URL. */
  cycle?: boolean;
  seconds: number;
  /** Events/s, each one job per URL; omitted: add as fast as possible (chunks of 1000 jobs). */
  rate?: number;
}

export interface WorkPlan extends BullTarget {
  concurrency: number;
  secret: string;
}

interface DeliveryJob {
  url: string;
  body: string;
  id: string;
}

const connection = (url: string): ConnectionOptions => {
  const u = new URL(url);
  const node = { host: u.hostname, port: Number(u.port) };
  // bench --cluster: a Cluster client (the prefix is hash-tagged, as the app's)
  if (u.searchParams.get('cluster') === 'true')
    return new Cluster([node], { redisOptions: { maxRetriesPerRequest: null } }) as unknown as ConnectionOptions;
  return { ...node, maxRetriesPerRequest: null };
};

let seq = 0;
let worker: Worker | undefined;

async function produce(p: ProducePlan): Promise<{ jobs: number; seconds: number }> {
  const queue = new Queue<DeliveryJob>(p.queue, { connection: connection(p.redisUrl), prefix: p.prefix });
  const jobsFor = (scheduledMs: number) =>
    (p.cycle ? [p.urls[seq % p.urls.length]] : p.urls).map((url) => {
      const s = seq++;
      return {
        name: 'deliver',
        data: { url, body: envelopeBody(s, scheduledMs), id: `evt_bench${s}` },
        opts: { removeOnComplete: true, removeOnFail: true },
      };
    });
  let jobs = 0;
  const start = nowMs();
  if (p.rate) {
    const adds: Promise<unknown>[] = [];
    await openLoop(Math.round(p.rate * p.seconds), 1000 / p.rate, start, (_k, scheduled) => {
      const batch = jobsFor(scheduled);
      jobs += batch.length;
      adds.push(queue.addBulk(batch));
    });
    await Promise.all(adds);
  } else {
    const deadline = start + p.seconds * 1000;
    while (nowMs() < deadline) {
      const batch = Array.from({ length: Math.ceil(1000 / p.urls.length) }, () => jobsFor(nowMs())).flat();
      jobs += batch.length;
      await queue.addBulk(batch);
    }
  }
  const seconds = (nowMs() - start) / 1000;
  await queue.close();
  return { jobs, seconds };
}

async function work(p: WorkPlan): Promise<void> {
  const agent = keepAliveAgent(p.concurrency);
  const key = signingKey(p.secret);
  worker = new Worker<DeliveryJob>(
    p.queue,
    async (job) => {
      const { url, body, id } = job.data;
      const reply = await postJson(agent, url, body, signedHeaders(key, body, id), 10_000);
      if (reply.status < 200 || reply.status >= 300) throw new Error(`receiver answered ${reply.status}`);
    },
    { connection: connection(p.redisUrl), prefix: p.prefix, concurrency: p.concurrency },
  );
  await worker.waitUntilReady();
}

async function stopWork(_: void): Promise<void> {
  await worker?.close();
  worker = undefined;
}

const methods = { produce, work, stopWork };
export type BullBaselineMethods = typeof methods;
if (process.send) serve(methods);
