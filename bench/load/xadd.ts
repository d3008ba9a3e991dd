import { Cluster, Redis } from 'ioredis';
import { nowMs } from '../../test/support/time.js';
import { benchEvent } from '../lib/events.js';
import { Latency } from '../lib/histogram.js';
import { serve } from '../lib/rpc.js';
import { openLoop } from '../lib/schedule.js';

/** The publish baseline: bare XADD pipelining from one ioredis client, the same entry fields the app writes. */
export interface XaddPlan {
  redisUrl: string;
  stream: string;
  batch: number;
  seconds: number;
  /** Fixed rate (events/s) for a latency comparison; omitted: closed loop at full speed. */
  rate?: number;
  concurrency: number;
}

export interface XaddOutcome {
  events: number;
  seconds: number;
  latency: string;
}

async function run(p: XaddPlan): Promise<XaddOutcome> {
  const u = new URL(p.redisUrl);
  // `?cluster=true` (bench --cluster): the stream's key is hash-tagged, so one Cluster client pipelines to its master
  const redis =
    u.searchParams.get('cluster') === 'true' ? new Cluster([{ host: u.hostname, port: Number(u.port) }]) : new Redis(p.redisUrl);
  const latency = Latency.create();
  let events = 0;
  let seq = 0;
  const pipeline = async (scheduledMs: number) => {
    const pipe = redis.pipeline();
    const ts = new Date().toISOString();
    for (let i = 0; i < p.batch; i++) {
      const e = benchEvent(seq++, scheduledMs, 'comp-0');
      pipe.xadd(
        p.stream,
        'MAXLEN',
        '~',
        '1000000',
        '*',
        'o',
        'org_default',
        't',
        e.type,
        'ts',
        ts,
        'd',
        JSON.stringify({ ...e.data, timestamp: ts }),
      );
    }
    await pipe.exec();
    latency.record(nowMs() - scheduledMs);
    events += p.batch;
  };
  const start = nowMs();
  if (p.rate) {
    const inFlight: Promise<void>[] = [];
    await openLoop(Math.round((p.rate * p.seconds) / p.batch), (p.batch * 1000) / p.rate, start, (_k, s) => inFlight.push(pipeline(s)));
    await Promise.all(inFlight);
  } else {
    const deadline = start + p.seconds * 1000;
    const lane = async () => {
      while (nowMs() < deadline) await pipeline(nowMs());
    };
    await Promise.all(Array.from({ length: p.concurrency }, lane));
  }
  const seconds = (nowMs() - start) / 1000;
  await redis.del(p.stream);
  redis.disconnect();
  return { events, seconds, latency: latency.encode() };
}

const methods = { run };
export type XaddMethods = typeof methods;
if (process.send) serve(methods);
