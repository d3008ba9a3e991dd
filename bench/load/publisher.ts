import { nowMs } from '../../test/support/time.js';
import { benchEvent, type BenchEventInput } from '../lib/events.js';
import { Latency } from '../lib/histogram.js';
import { keepAliveAgent, postJson } from '../lib/http.js';
import { serve } from '../lib/rpc.js';
import { openLoop } from '../lib/schedule.js';

export interface PublishTarget {
  /** API base URLs; batches go round-robin. */
  urls: string[];
  apiKey: string;
  /** Events per POST /api/v1/events/batch. */
  batch: number;
  /** companionId values, cycled per event (webhook filters and stream subscriptions select on them). */
  companions: string[];
  /** Return every acknowledged event id (for the lost-event accounting). */
  collectIds: boolean;
}

export interface FixedRatePlan extends PublishTarget {
  rate: number;
  seconds: number;
  maxInFlight: number;
  /** Epoch ms of the first batch (several generators can share a start). */
  startAtMs?: number;
}

export interface ClosedLoopPlan extends PublishTarget {
  seconds: number;
  concurrency: number;
}

export interface PublishOutcome {
  /** Events offered (sent in a request). */
  offered: number;
  /** Events the API acknowledged with an id (202). */
  acked: number;
  /** Batch requests by response status ("0" = no response). */
  statuses: Record<string, number>;
  /** Per batch request: reply time − scheduled send time. */
  latency: string;
  ids: string[];
  /** The same ids by companionId (only with collectIds). */
  idsByCompanion: Record<string, string[]>;
  /** Acknowledged events per companionId (what each filtered subscriber should receive). */
  perCompanion: Record<string, number>;
  firstScheduledMs: number;
  lastReplyMs: number;
}

let seq = 0;

function publisher(t: PublishTarget, maxSockets: number) {
  const agent = keepAliveAgent(maxSockets);
  const latency = Latency.create();
  const out: PublishOutcome = {
    offered: 0,
    acked: 0,
    statuses: {},
    latency: '',
    ids: [],
    idsByCompanion: {},
    perCompanion: {},
    firstScheduledMs: 0,
    lastReplyMs: 0,
  };
  let rr = 0;
  const send = async (scheduledMs: number): Promise<void> => {
    const events: BenchEventInput[] = [];
    for (let i = 0; i < t.batch; i++) {
      const s = seq++;
      events.push(benchEvent(s, scheduledMs, t.companions[s % t.companions.length]));
    }
    out.offered += events.length;
    const url = `${t.urls[rr++ % t.urls.length]}/api/v1/events/batch`;
    const reply = await postJson(agent, url, JSON.stringify({ events }), { authorization: `Bearer ${t.apiKey}` });
    const done = nowMs();
    latency.record(done - scheduledMs);
    out.lastReplyMs = Math.max(out.lastReplyMs, done);
    out.statuses[reply.status] = (out.statuses[reply.status] ?? 0) + 1;
    if (reply.status !== 202) return;
    const { results } = JSON.parse(reply.body) as { results: { id?: string }[] };
    results.forEach((r, i) => {
      if (!r.id) return;
      out.acked++;
      const companion = events[i].data.companionId;
      out.perCompanion[companion] = (out.perCompanion[companion] ?? 0) + 1;
      if (t.collectIds) {
        out.ids.push(r.id);
        (out.idsByCompanion[companion] ??= []).push(r.id);
      }
    });
  };
  const finish = (): PublishOutcome => {
    agent.destroy();
    return { ...out, latency: latency.encode() };
  };
  return { send, finish, out };
}

async function fixedRate(p: FixedRatePlan): Promise<PublishOutcome> {
  const pub = publisher(p, p.maxInFlight);
  const count = Math.max(1, Math.round((p.rate * p.seconds) / p.batch));
  const start = p.startAtMs ?? nowMs() + 20;
  pub.out.firstScheduledMs = start;
  const inFlight: Promise<void>[] = [];
  await openLoop(count, (p.batch * 1000) / p.rate, start, (_k, scheduled) => inFlight.push(pub.send(scheduled)));
  await Promise.all(inFlight);
  return pub.finish();
}

async function closedLoop(p: ClosedLoopPlan): Promise<PublishOutcome> {
  const pub = publisher(p, p.concurrency);
  pub.out.firstScheduledMs = nowMs();
  const deadline = pub.out.firstScheduledMs + p.seconds * 1000;
  const lane = async () => {
    while (nowMs() < deadline) await pub.send(nowMs());
  };
  await Promise.all(Array.from({ length: p.concurrency }, lane));
  return pub.finish();
}

const methods = { fixedRate, closedLoop };
export type PublisherMethods = typeof methods;
if (process.send) serve(methods);
