import { Pool } from 'undici';
import { nowMs } from '../../test/support/time.js';
import { signingKey } from '../../src/webhooks/signing.js';
import { envelopeBody, signedHeaders } from '../lib/delivery-body.js';
import { serve } from '../lib/rpc.js';
import { openLoop } from '../lib/schedule.js';

/**
 * The webhooks baseline "bare signed POST": signed keep-alive POSTs straight to the receiver over an undici Pool (the
 * client the app delivers with), no queue, no app.
 */
export interface PostPlan {
  /** One URL per webhook, all on one origin: every event is POSTed to each. */
  urls: string[];
  secret: string;
  seconds: number;
  /** Events/s (each fanned out to every URL); omitted: closed loop with `concurrency` lanes. */
  rate?: number;
  concurrency: number;
}

export interface PostOutcome {
  posted: number;
  statuses: Record<string, number>;
  seconds: number;
  /** This process's CPU (process.cpuUsage, user + system) per POST, µs. */
  cpuUsPerPost: number;
}

let seq = 0;

async function run(p: PostPlan): Promise<PostOutcome> {
  const pool = new Pool(new URL(p.urls[0]).origin, { connections: p.concurrency, pipelining: 1 });
  const paths = p.urls.map((u) => new URL(u).pathname);
  const key = signingKey(p.secret);
  const out: PostOutcome = { posted: 0, statuses: {}, seconds: 0, cpuUsPerPost: 0 };
  const post = async (path: string, scheduledMs: number) => {
    const s = seq++;
    const body = envelopeBody(s, scheduledMs);
    const status = await pool
      .request({
        path,
        method: 'POST',
        headers: signedHeaders(key, body, `evt_bench${s}`),
        body,
      })
      .then(async (res) => {
        await res.body.dump();
        return res.statusCode;
      })
      .catch(() => 0);
    out.posted++;
    out.statuses[status] = (out.statuses[status] ?? 0) + 1;
  };
  const cpu = process.cpuUsage();
  const start = nowMs();
  if (p.rate) {
    const inFlight: Promise<void>[] = [];
    await openLoop(Math.round(p.rate * p.seconds), 1000 / p.rate, start, (_k, scheduled) => {
      for (const path of paths) inFlight.push(post(path, scheduled));
    });
    await Promise.all(inFlight);
  } else {
    const deadline = start + p.seconds * 1000;
    let n = 0;
    const lane = async () => {
      while (nowMs() < deadline) await post(paths[n++ % paths.length], nowMs());
    };
    await Promise.all(Array.from({ length: p.concurrency }, lane));
  }
  out.seconds = (nowMs() - start) / 1000;
  const used = process.cpuUsage(cpu);
  out.cpuUsPerPost = out.posted ? Math.round((used.user + used.system) / out.posted) : 0;
  await pool.close();
  return out;
}

const methods = { run };
export type PosterMethods = typeof methods;
if (process.send) serve(methods);
