import { maskUrl } from '../destinations/url-mask.js';
import { Inject, Injectable } from '@nestjs/common';
import { FairSlots, forEachLimit } from '../common/concurrency.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { RedisService } from '../redis/redis.service.js';
import { envelopeOf } from '../events/envelope.js';
import { circuitBreakerOf } from '../webhooks/endpoint-health.js';
import { WebhookIndex, type CompiledWebhook } from '../webhooks/webhook-index.js';
import { DeadLetters } from './dead-letters.js';
import { decide, type Decision } from './delivery-decision.js';
import type { AttemptRecord, DeliveryKind } from './delivery.entity.js';
import { DeliveryExecutor, type AttemptOutcome, type Payload } from './delivery-executor.js';
import { DeliveryLog } from './delivery-log.js';
import { DeliveryQueue } from './delivery-queue.js';
import { deliveryRow, type DeliveryState } from './delivery-rows.js';
import { pickNext, type HeldDelivery } from './engine-decision.js';
import { EndpointEngine, type AttemptHealth } from './endpoint-engine.js';
import { FanoutProgress } from './fanout-progress.js';
import type { BatchFlushJobData, DrainJobData, FanoutJobData, RetryJobData } from './queues.js';
import { WebhookBatcher } from './webhook-batcher.js';

const STOPPED = 'webhook disabled or deleted: pending retries stopped';
/** A drain job sends for at most this long, then continues in a new job (other endpoints get their turn). */
const DRAIN_SLICE_MS = 1_000;
/** Rate-limit waits up to this long are slept inside the drain job; longer ones reschedule it. */
const DRAIN_SLEEP_MAX_MS = 250;
const PEEK = 200;
/** First attempts of one fan-out job in flight at once. */
const FANOUT_PARALLEL = 32;
/**
 * Attempts in flight at once in this worker process, whatever job they belong to, shared round-robin by organization
 * (FairSlots). Beyond this the process only queues: a larger number adds latency to every attempt and starves the
 * event loop (the matcher falls behind the log) without delivering more. See docs/delivery-engine.md, fairness.
 */
export const ATTEMPTS_IN_FLIGHT = 64;
/** An attempt still waiting for its receiver after this long gives its slot up: a slow endpoint cannot hold the slots. */
export const ATTEMPT_SLOT_MAX_MS = 25;

/** How a drain slice ended: all sent (flag released), hand over (after a wait), or park until a key's retry is due. */
type DrainNext = { kind: 'done' } | { kind: 'again'; delayMs: number } | { kind: 'park'; seen: number; delayMs: number };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What a retry job's run came to, for the queue to act on. */
export type RetryResult =
  | { kind: 'settled' }
  | { kind: 'dead'; reason: string }
  | { kind: 'retry'; attempts: AttemptRecord[]; error: string; retryAfterMs: number | undefined };

/**
 * The delivery use cases the queue processor calls. A fan-out job (one organization's deliveries of one log batch)
 * admits each delivery at its endpoint (engine) and makes the first attempt of those admitted (concurrently); held
 * ones wait in the endpoint's backlog for its drain job. Each
 * delivery that fails retryably becomes its own retry job. Deliveries that fail for good go to the DLQ. Every call
 * resolves only after its delivery-log rows are committed, so a crash re-runs the job (at-least-once; receivers
 * de-duplicate on `webhook-id`).
 */
@Injectable()
export class DeliveryRunner {
  private readonly slots = new FairSlots(ATTEMPTS_IN_FLIGHT, ATTEMPT_SLOT_MAX_MS);

  constructor(
    private readonly index: WebhookIndex,
    private readonly executor: DeliveryExecutor,
    private readonly log: DeliveryLog,
    private readonly queue: DeliveryQueue,
    private readonly deadLetters: DeadLetters,
    private readonly batcher: WebhookBatcher,
    private readonly engine: EndpointEngine,
    private readonly redis: RedisService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * First attempts of a fan-out job's deliveries: one admission call for all, attempts FANOUT_PARALLEL at a time (a
   * slot is held for the attempt only; log writes complete in the background), one health call at the end. Each
   * delivery is marked done once settled (its log row committed), so a re-run of the job after a crash repeats only the
   * deliveries that had not settled.
   */
  async fanout(data: FanoutJobData, job: { id: string; rerun: boolean }): Promise<{ delivered: number; held: number; skipped: number }> {
    const progress = await FanoutProgress.open(
      this.redis.client,
      this.redis.keys.fanoutDone(job.id, this.queue.tagOf(data.organizationId)),
      job.rerun,
    );
    const direct: { hook: CompiledWebhook; held: HeldDelivery; eventJson: string }[] = [];
    const batched: Promise<unknown>[] = [];
    const createdAt = new Date().toISOString();
    for (const { event, targets, traceparent } of data.items) {
      let json: string | undefined;
      for (const t of targets) {
        if (progress.done(t.deliveryId)) continue;
        const hook = this.index.get(t.webhookId);
        // Disabled or deleted since the event was matched: nothing to deliver.
        if (!hook || hook.row.organizationId !== event.organizationId) continue;
        if (hook.row.batch) {
          batched.push(this.batcher.add(hook, event).then(() => progress.mark(t.deliveryId)));
          continue;
        }
        json ??= JSON.stringify(envelopeOf(event));
        // held deliveries wait in Redis: no URL credentials there
        const held = { deliveryId: t.deliveryId, kind: t.kind, event, attempts: [], createdAt, url: maskUrl(hook.row.url), traceparent };
        direct.push({ hook, eventJson: json, held });
      }
    }
    const admitted = await this.engine.admit(direct);
    // The job's attempts share one rank: an organization's older jobs finish first and free their BullMQ slots.
    const rank = this.slots.nextRank();
    const health: AttemptHealth[] = [];
    let delivered = 0;
    let held = 0;
    // A lane waits for the receiver only; each delivery's log write and done mark complete in the background.
    const settling: Promise<unknown>[] = [];
    const background = (p: Promise<unknown>, deliveryId: string) => {
      const marked = p.then(() => progress.mark(deliveryId));
      marked.catch(() => undefined); // surfaces when the job awaits `settling` (the job then fails and re-runs)
      settling.push(marked);
    };
    const one = async (i: number) => {
      const { hook, held: h, eventJson } = direct[i];
      const { deliveryId, kind, createdAt, event, traceparent } = h;
      if (admitted[i].held) {
        held++;
        const sequence = admitted[i].sequence || undefined;
        const row = deliveryRow({ webhook: hook.row, deliveryId, kind, event, createdAt, attempts: [], status: 'pending', sequence });
        return background(this.log.record(row), deliveryId);
      }
      const payload = { event, json: eventJson, traceparent };
      const res = await this.attempt(hook, payload, deliveryId, 1, rank);
      background(
        this.settleFirst(hook, payload, deliveryId, kind, res, health).then((ok) => ok && delivered++),
        deliveryId,
      );
    };
    await Promise.all([...batched, forEachLimit(direct.length, FANOUT_PARALLEL, one)]);
    await Promise.all(settling);
    await Promise.all([this.engine.record(health), this.queue.fanoutFinished(data, job.id, this.config.webhookStallMs * 4)]);
    return { delivered, held, skipped: progress.skipped };
  }

  flushBatch(data: BatchFlushJobData): Promise<unknown> {
    return this.batcher.flush(data, (hook, payload, deliveryId) => this.firstAttempt(hook, payload, deliveryId, 'batch'));
  }

  /** Attempt `firstAttempt + attemptsMade` of a delivery that failed retryably before (unless its endpoint holds it). */
  async retry(data: RetryJobData, attemptsMade: number): Promise<RetryResult> {
    const attempt = data.firstAttempt + attemptsMade;
    const hook = this.index.get(data.webhookId);
    const base = { deliveryId: data.deliveryId, kind: data.kind, event: data.event, batch: data.batch, createdAt: data.createdAt };
    const ref = { id: data.webhookId, organizationId: data.event.organizationId };
    if (!hook) {
      await this.queue.settled(ref, data.deliveryId);
      const webhook = { ...ref, url: data.url };
      await this.log.record(deliveryRow({ ...base, webhook, attempts: data.attempts, status: 'failed', error: STOPPED }));
      return { kind: 'settled' };
    }
    const held: HeldDelivery = { ...base, attempts: data.attempts, url: data.url, traceparent: data.traceparent };
    const [admission] = await this.engine.admit([{ hook, held }]);
    if (admission.held) {
      // Paused, circuit open, rate-limited or behind held deliveries: it waits in the backlog, no attempt used.
      await this.queue.settled(ref, data.deliveryId);
      await this.log.record(deliveryRow({ ...base, webhook: hook.row, attempts: data.attempts, status: 'pending' }));
      return { kind: 'settled' };
    }
    const res = await this.attempt(hook, { event: data.event, batch: data.batch, traceparent: data.traceparent }, data.deliveryId, attempt);
    const attempts: AttemptRecord[] = [...data.attempts, res.record];
    const d = decide(res, attempt, data.retry);
    await this.settle(hook, { ...base, webhook: hook.row, attempts }, d, { ownJob: true });
    if (d.kind === 'retry') return { kind: 'retry', attempts, error: res.record.error ?? 'failed', retryAfterMs: res.retryAfterMs };
    await this.queue.settled(ref, data.deliveryId);
    return d.kind === 'dead' ? d : { kind: 'settled' };
  }

  /** One attempt, when its organization's turn for one of the process's in-flight slots comes. */
  private attempt(hook: CompiledWebhook, payload: Payload, deliveryId: string, n: number, rank?: number): Promise<AttemptOutcome> {
    return this.slots.run(hook.row.organizationId, () => this.executor.attempt(hook, payload, deliveryId, n), rank);
  }

  /** Attempt 1 of a delivery; a retryable failure becomes a retry job. True when it succeeded. */
  private async firstAttempt(hook: CompiledWebhook, payload: Payload, deliveryId: string, kind: DeliveryKind): Promise<boolean> {
    const res = await this.attempt(hook, payload, deliveryId, 1);
    return this.settleFirst(hook, payload, deliveryId, kind, res);
  }

  /**
   * Settles attempt 1 (a retryable failure becomes a retry job); true when it succeeded. With `health`, the endpoint
   * health record is left to the caller (one call per job).
   */
  private async settleFirst(
    hook: CompiledWebhook,
    payload: Payload,
    deliveryId: string,
    kind: DeliveryKind,
    res: AttemptOutcome,
    health?: AttemptHealth[],
  ): Promise<boolean> {
    const d = decide(res, 1, hook.row.retry);
    const createdAt = res.record.timestamp;
    const state = { webhook: hook.row, deliveryId, kind, event: payload.event, batch: payload.batch, createdAt, attempts: [res.record] };
    if (d.kind === 'retry')
      await this.queue.addRetries(hook.row, [{ data: this.retryData(hook, state, payload.traceparent), delayMs: d.delayMs }]);
    await this.settle(hook, state, d, { traceparent: payload.traceparent, health });
    return d.kind === 'success';
  }

  private retryData(hook: CompiledWebhook, s: Omit<DeliveryState, 'status' | 'webhook'>, traceparent?: string): RetryJobData {
    const { event, batch, deliveryId, kind, attempts, createdAt } = s;
    const firstAttempt = attempts.length + 1;
    return {
      event,
      batch,
      webhookId: hook.id,
      url: maskUrl(hook.row.url),
      deliveryId,
      kind,
      firstAttempt,
      retry: hook.row.retry,
      attempts,
      createdAt,
      traceparent,
    };
  }

  /**
   * Sends an endpoint's held deliveries in log order while it is available: not while paused; one probe per interval
   * while its circuit is open; at its rate limit; for ordered endpoints one delivery per key at a time (a failing one
   * holds back only its key). One drain job at a time per endpoint (a lock); each runs for one time slice and then
   * hands over to a new job (after releasing the lock), so endpoints take turns on the workers.
   */
  async drain(data: DrainJobData): Promise<{ sent: number }> {
    const hook = this.index.get(data.webhookId);
    if (!hook) {
      // Disabled or deleted: its held deliveries were settled by cancelPending; only the flag may remain.
      await this.engine.release({ id: data.webhookId, organizationId: data.organizationId });
      return { sent: 0 };
    }
    const w = hook.row;
    const token = await this.engine.lock(w, w.timeoutMs + DRAIN_SLICE_MS + 30_000);
    // Another drain job is sending this backlog; it always ends by handing over, parking or releasing.
    if (!token) return { sent: 0 };
    const { next, sent } = await this.drainSlice(hook).finally(() => this.engine.unlock(w, token));
    if (next.kind === 'again') await this.queue.addDrain(w, next.delayMs);
    else if (next.kind === 'park') {
      if (await this.engine.park(w, next.seen, next.delayMs)) await this.queue.addDrain(w, next.delayMs, { keepFlag: true });
      else await this.queue.addDrain(w, 0);
    }
    return { sent };
  }

  /**
   * One slice of a drain. The backlog is read a window at a time; each send waits for the receiver, not for the log:
   * its delivery-log/DLQ write and its removal from the backlog complete in the background (removal only after the
   * write is committed, so a crash re-sends rather than loses), and the slice awaits them all before it ends.
   */
  private async drainSlice(hook: CompiledWebhook): Promise<{ next: DrainNext; sent: number }> {
    const w = hook.row;
    const ordered = !!w.ordering;
    const until = Date.now() + DRAIN_SLICE_MS;
    const done = new Set<string>();
    const background: Promise<unknown>[] = [];
    let window: { member: string; held: HeldDelivery }[] = [];
    let total = 0;
    let fresh = false;
    let sent = 0;
    const out = async (next: DrainNext) => {
      await Promise.all(background);
      return { next, sent };
    };
    const refresh = async () => {
      await Promise.all(background.splice(0));
      ({ total, items: window } = await this.engine.peek(w, PEEK));
      done.clear();
      fresh = true;
    };
    for (;;) {
      if (Date.now() > until) return out({ kind: 'again', delayMs: 0 });
      const candidates = done.size ? window.filter((i) => !done.has(i.member)) : window;
      const next = pickNext(
        candidates.map((i) => i.held),
        ordered,
        Date.now(),
      );
      if (next.kind !== 'send' && !fresh) {
        await refresh();
        continue;
      }
      if (next.kind === 'empty') {
        if (await this.engine.release(w)) return out({ kind: 'done' });
        fresh = false;
        continue;
      }
      if (next.kind === 'wait') {
        if (next.ms <= DRAIN_SLEEP_MAX_MS && Date.now() + next.ms <= until) {
          await sleep(next.ms);
          fresh = false;
          continue;
        }
        return out({ kind: 'park', seen: total, delayMs: next.ms });
      }
      // Only now, with a delivery to send, may the gate hand out the circuit's one probe.
      const gate = await this.engine.gate(hook);
      if (gate.status === 'paused') {
        await refresh();
        if (await this.engine.release(w)) return out({ kind: 'done' });
        continue;
      }
      if (gate.status === 'open') return out({ kind: 'again', delayMs: gate.waitMs });
      const wait = await this.engine.takeToken(hook);
      if (wait > 0) {
        if (wait <= DRAIN_SLEEP_MAX_MS && Date.now() + wait <= until) {
          await sleep(wait);
          continue;
        }
        return out({ kind: 'again', delayMs: wait });
      }
      const item = candidates[next.index];
      const r = await this.sendHeld(hook, item.member, item.held, gate.status === 'probe', ordered);
      sent++;
      fresh = false;
      if (r.stays) item.held = r.stays;
      else done.add(item.member);
      background.push(r.settled);
    }
  }

  /**
   * One attempt of a held delivery. Either it stays held (an ordered key's retry, a failed probe: updated in the
   * backlog before this returns) or it leaves the backlog once its outcome is committed (`settled`).
   */
  private async sendHeld(
    hook: CompiledWebhook,
    member: string,
    held: HeldDelivery,
    probe: boolean,
    ordered: boolean,
  ): Promise<{ stays: HeldDelivery | null; settled: Promise<unknown> }> {
    const attempt = held.attempts.length + 1;
    const payload: Payload = { event: held.event, batch: held.batch, traceparent: held.traceparent, sequence: held.sequence };
    const res = await this.attempt(hook, payload, held.deliveryId, attempt);
    const attempts = [...held.attempts, res.record];
    let d = decide(res, attempt, hook.row.retry);
    // A failed probe leaves the delivery held at the head, its attempts not used up (the circuit stays open).
    if (probe && res.outcome === 'retryable') d = { kind: 'retry', delayMs: circuitBreakerOf(hook.row).probeIntervalMs };
    const { deliveryId, kind, event, batch, createdAt, sequence } = held;
    const state = { webhook: hook.row, deliveryId, kind, event, batch, createdAt, attempts, sequence };
    if (d.kind === 'retry' && (ordered || probe)) {
      // Stays in the backlog (its key or the circuit holds it), due again after its retry wait.
      const stays = { ...held, attempts, notBefore: Date.now() + d.delayMs };
      await this.engine.update(hook.row, member, stays);
      return { stays, settled: this.settle(hook, state, d) };
    }
    const retry =
      d.kind === 'retry'
        ? this.queue.addRetries(hook.row, [{ data: this.retryData(hook, state, held.traceparent), delayMs: d.delayMs }])
        : undefined;
    const settled = Promise.all([retry, this.settle(hook, state, d, { traceparent: held.traceparent })]).then(() =>
      this.engine.remove(hook.row, member),
    );
    // Not awaited here: a failure surfaces when the slice awaits its background work (the job then re-runs).
    settled.catch(() => undefined);
    return { stays: null, settled };
  }

  /**
   * Writes the delivery's new state (and its DLQ record when it is dead), and the endpoint's health (or adds it to
   * `opts.health`, recorded by the caller after every settle of its job); resolves once committed.
   */
  private async settle(
    hook: CompiledWebhook,
    state: Omit<DeliveryState, 'status'> & { webhook: CompiledWebhook['row'] },
    d: Decision,
    opts: { ownJob?: boolean; traceparent?: string; health?: AttemptHealth[] } = {},
  ): Promise<void> {
    const outcome: AttemptHealth = { hook, success: d.kind === 'success', dead: d.kind === 'dead' };
    let health: Promise<void> | undefined;
    if (opts.health) opts.health.push(outcome);
    else health = this.engine.record([outcome]);
    if (d.kind === 'success') return void (await Promise.all([health, this.log.record(deliveryRow({ ...state, status: 'success' }))]));
    if (d.kind === 'retry')
      return void (await Promise.all([
        health,
        this.log.record(deliveryRow({ ...state, status: 'retrying', nextAttemptAt: new Date(Date.now() + d.delayMs).toISOString() })),
      ]));
    // Without a retry job of its own (first attempt, drain), a failed `dead` job puts it in BullMQ's failed set too.
    const failedJob = opts.ownJob ? undefined : this.queue.addDead({ ...this.retryData(hook, state, opts.traceparent), reason: d.reason });
    await Promise.all([
      this.log.record(deliveryRow({ ...state, status: 'failed', error: d.reason })),
      this.deadLetters.bury({ ...state, reason: d.reason }),
      failedJob,
    ]);
    // After the DLQ record: an auto-disable that follows it counts it.
    await health;
  }
}
