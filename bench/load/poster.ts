import { nowMs } from '../../test/support/time.js';
import { envelopeBody, signedHeaders } from '../lib/delivery-body.js';
import { keepAliveAgent, postJson } from '../lib/http.js';
import { serve } from '../lib/rpc.js';
import { openLoop } from '../lib/schedule.js';

/** The webhooks baseline "bare HTTP": signed keep-alive node:http POSTs straight to the receiver, no queue, no app. */
export interface PostPlan {
  /** One URL per webhook: every event is POSTed to each. */
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
}

let seq = 0;

async function run(p: PostPlan): Promise<PostOutcome> {
  const agent = keepAliveAgent(p.concurrency);
  const out: PostOutcome = { posted: 0, statuses: {}, seconds: 0 };
  const post = async (url: string, scheduledMs: number) => {
    const s = seq++;
    const body = envelopeBody(s, scheduledMs);
    const reply = await postJson(agent, url, body, signedHeaders(p.secret, body, `evt_bench${s}`));
    out.posted++;
    out.statuses[reply.status] = (out.statuses[reply.status] ?? 0) + 1;
  };
  const start = nowMs();
  if (p.rate) {
    const inFlight: Promise<void>[] = [];
    await openLoop(Math.round(p.rate * p.seconds), 1000 / p.rate, start, (_k, scheduled) => {
      for (const url of p.urls) inFlight.push(post(url, scheduled));
    });
    await Promise.all(inFlight);
  } else {
    const deadline = start + p.seconds * 1000;
    let n = 0;
    const lane = async () => {
      while (nowMs() < deadline) await post(p.urls[n++ % p.urls.length], nowMs());
    };
    await Promise.all(Array.from({ length: p.concurrency }, lane));
  }
  out.seconds = (nowMs() - start) / 1000;
  agent.destroy();
  return out;
}

const methods = { run };
export type PosterMethods = typeof methods;
if (process.send) serve(methods);
