import { maskUrl } from '../destinations/url-mask.js';
import { Injectable } from '@nestjs/common';
import { envelopeOf } from '../events/envelope.js';
import { circuitBreakerOf } from '../webhooks/endpoint-health.js';
import { WebhookIndex, type CompiledWebhook } from '../webhooks/webhook-index.js';
import { DeadLetters } from './dead-letters.js';
import { decide, type Decision } from './delivery-decision.js';
import type { AttemptRecord, DeliveryKind } from './delivery.entity.js';
import { DeliveryExecutor, type Payload } from './delivery-executor.js';
import { DeliveryLog } from './delivery-log.js';
import { DeliveryQueue } from './delivery-queue.js';
import { deliveryRow, type DeliveryState } from './delivery-rows.js';
import { pickNext, type HeldDelivery } from './engine-decision.js';
import { EndpointEngine } from './endpoint-engine.js';
import type { BatchFlushJobData, DrainJobData, FanoutJobData, RetryJobData } from './queues.js';
import { WebhookBatcher } from './webhook-batcher.js';

const STOPPED = 'webhook disabled or deleted: pending retries stopped';
/** A drain job sends for at most this long, then continues in a new job (other endpoints get their turn). */
const DRAIN_SLICE_MS = 1_000;
/** Rate-limit waits up to this long are slept inside the drain job; longer ones reschedule it. */
const DRAIN_SLEEP_MAX_MS = 250;
const PEEK = 200;

/** How a drain slice ended: all sent (flag released), hand over (after a wait), or park until a key's retry is due. */
type DrainNext = { kind: 'done' } | { kind: 'again'; delayMs: number } | { kind: 'park'; seen: number; delayMs: number };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What a retry job's run came to, for the queue to act on. */
export type RetryResult =
  | { kind: 'settled' }
  | { kind: 'dead'; reason: string }
  | { kind: 'retry'; attempts: AttemptRecord[]; error: string; retryAfterMs: number | undefined };

/**
 * The delivery use cases the queue processor calls. A fan-out admits each delivery at its endpoint (engine) and makes
 * the first attempt of those admitted (concurrently); held ones wait in the endpoint's backlog for its drain job. Each
 * delivery that fails retryably becomes its own retry job. Deliveries that fail for good go to the DLQ. Every call
 * resolves only after its delivery-log rows are committed, so a crash re-runs the job (at-least-once; receivers
 * de-duplicate on `webhook-id`).
 */
@Injectable()
export class DeliveryRunner {
  constructor(
    private readonly index: WebhookIndex,
    private readonly executor: DeliveryExecutor,
    private readonly log: DeliveryLog,
    private readonly queue: DeliveryQueue,
    private readonly deadLetters: DeadLetters,
    private readonly batcher: WebhookBatcher,
    private readonly engine: EndpointEngine,
  ) {}

  async fanout(data: FanoutJobData): Promise<{ delivered: number; held: number }> {
    const { event, targets } = data;
    const json = JSON.stringify(envelopeOf(event));
    const direct: { hook: CompiledWebhook; held: HeldDelivery; eventJson: string }[] = [];
    const batched: Promise<unknown>[] = [];
    for (const t of targets) {
      const hook = this.index.get(t.webhookId);
      // Disabled or deleted since the event was matched: nothing to deliver.
      if (!hook || hook.row.organizationId !== event.organizationId) continue;
      if (hook.row.batch) batched.push(this.batcher.add(hook, event));
      else {
        const createdAt = new Date().toISOString();
        const held = {
          deliveryId: t.deliveryId,
          kind: t.kind,
          event,
          attempts: [],
          createdAt,
          url: maskUrl(hook.row.url), // held deliveries wait in Redis: no URL credentials there
          traceparent: data.traceparent,
        };
        direct.push({ hook, eventJson: json, held });
      }
    }
    const admitted = await this.engine.admit(direct);
    let delivered = 0;
    let held = 0;
    await Promise.all([
      ...batched,
      ...direct.map(async ({ hook, held: h }, i) => {
        if (admitted[i].held) {
          held++;
          const { deliveryId, kind, createdAt } = h;
          const sequence = admitted[i].sequence || undefined;
          return this.log.record(
            deliveryRow({ webhook: hook.row, deliveryId, kind, event, createdAt, attempts: [], status: 'pending', sequence }),
          );
        }
        if (await this.firstAttempt(hook, { event, json, traceparent: data.traceparent }, h.deliveryId, h.kind)) delivered++;
      }),
    ]);
    await this.queue.fanoutDone(event.organizationId);
    return { delivered, held };
  }

  flushBatch(data: BatchFlushJobData): Promise<unknown> {
    return this.batcher.flush(data.webhookId, (hook, payload, deliveryId) => this.firstAttempt(hook, payload, deliveryId, 'batch'));
  }

  /** Attempt `firstAttempt + attemptsMade` of a delivery that failed retryably before (unless its endpoint holds it). */
  async retry(data: RetryJobData, attemptsMade: number): Promise<RetryResult> {
    const attempt = data.firstAttempt + attemptsMade;
    const hook = this.index.get(data.webhookId);
    const base = { deliveryId: data.deliveryId, kind: data.kind, event: data.event, batch: data.batch, createdAt: data.createdAt };
    if (!hook) {
      await this.queue.settled(data.webhookId, data.deliveryId);
      const webhook = { id: data.webhookId, organizationId: data.event.organizationId, url: data.url };
      await this.log.record(deliveryRow({ ...base, webhook, attempts: data.attempts, status: 'failed', error: STOPPED }));
      return { kind: 'settled' };
    }
    const held: HeldDelivery = { ...base, attempts: data.attempts, url: data.url, traceparent: data.traceparent };
    const [admission] = await this.engine.admit([{ hook, held }]);
    if (admission.held) {
      // Paused, circuit open, rate-limited or behind held deliveries: it waits in the backlog, no attempt used.
      await this.queue.settled(data.webhookId, data.deliveryId);
      await this.log.record(deliveryRow({ ...base, webhook: hook.row, attempts: data.attempts, status: 'pending' }));
      return { kind: 'settled' };
    }
    const res = await this.executor.attempt(
      hook,
      { event: data.event, batch: data.batch, traceparent: data.traceparent },
      data.deliveryId,
      attempt,
    );
    const attempts: AttemptRecord[] = [...data.attempts, res.record];
    const d = decide(res, attempt, data.retry);
    await this.settle(hook, { ...base, webhook: hook.row, attempts }, d, true);
    if (d.kind === 'retry') return { kind: 'retry', attempts, error: res.record.error ?? 'failed', retryAfterMs: res.retryAfterMs };
    await this.queue.settled(data.webhookId, data.deliveryId);
    return d.kind === 'dead' ? d : { kind: 'settled' };
  }

  /** Attempt 1 of a delivery; a retryable failure becomes a retry job. True when it succeeded. */
  private async firstAttempt(hook: CompiledWebhook, payload: Payload, deliveryId: string, kind: DeliveryKind): Promise<boolean> {
    const res = await this.executor.attempt(hook, payload, deliveryId, 1);
    const d = decide(res, 1, hook.row.retry);
    const createdAt = res.record.timestamp;
    const state = { webhook: hook.row, deliveryId, kind, event: payload.event, batch: payload.batch, createdAt, attempts: [res.record] };
    if (d.kind === 'retry') await this.queue.addRetries([{ data: this.retryData(hook, state, payload.traceparent), delayMs: d.delayMs }]);
    await this.settle(hook, state, d, false, payload.traceparent);
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
    const id = data.webhookId;
    const hook = this.index.get(id);
    if (!hook) {
      // Disabled or deleted: its held deliveries were settled by cancelPending; only the flag may remain.
      await this.engine.release(id);
      return { sent: 0 };
    }
    const token = await this.engine.lock(id, hook.row.timeoutMs + DRAIN_SLICE_MS + 30_000);
    // Another drain job is sending this backlog; it always ends by handing over, parking or releasing.
    if (!token) return { sent: 0 };
    const { next, sent } = await this.drainSlice(hook).finally(() => this.engine.unlock(id, token));
    if (next.kind === 'again') await this.queue.addDrain(id, next.delayMs);
    else if (next.kind === 'park') {
      if (await this.engine.park(id, next.seen, next.delayMs)) await this.queue.addDrain(id, next.delayMs, { keepFlag: true });
      else await this.queue.addDrain(id, 0);
    }
    return { sent };
  }

  /**
   * One slice of a drain. The backlog is read a window at a time; each send waits for the receiver, not for the log:
   * its delivery-log/DLQ write and its removal from the backlog complete in the background (removal only after the
   * write is committed, so a crash re-sends rather than loses), and the slice awaits them all before it ends.
   */
  private async drainSlice(hook: CompiledWebhook): Promise<{ next: DrainNext; sent: number }> {
    const id = hook.id;
    const ordered = !!hook.row.ordering;
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
      ({ total, items: window } = await this.engine.peek(id, PEEK));
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
        if (await this.engine.release(id)) return out({ kind: 'done' });
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
        if (await this.engine.release(id)) return out({ kind: 'done' });
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
    const res = await this.executor.attempt(hook, payload, held.deliveryId, attempt);
    const attempts = [...held.attempts, res.record];
    let d = decide(res, attempt, hook.row.retry);
    // A failed probe leaves the delivery held at the head, its attempts not used up (the circuit stays open).
    if (probe && res.outcome === 'retryable') d = { kind: 'retry', delayMs: circuitBreakerOf(hook.row).probeIntervalMs };
    const { deliveryId, kind, event, batch, createdAt, sequence } = held;
    const state = { webhook: hook.row, deliveryId, kind, event, batch, createdAt, attempts, sequence };
    if (d.kind === 'retry' && (ordered || probe)) {
      // Stays in the backlog (its key or the circuit holds it), due again after its retry wait.
      const stays = { ...held, attempts, notBefore: Date.now() + d.delayMs };
      await this.engine.update(hook.id, member, stays);
      return { stays, settled: this.settle(hook, state, d) };
    }
    const retry =
      d.kind === 'retry' ? this.queue.addRetries([{ data: this.retryData(hook, state, held.traceparent), delayMs: d.delayMs }]) : undefined;
    const settled = Promise.all([retry, this.settle(hook, state, d, false, held.traceparent)]).then(() =>
      this.engine.remove(hook.id, member),
    );
    // Not awaited here: a failure surfaces when the slice awaits its background work (the job then re-runs).
    settled.catch(() => undefined);
    return { stays: null, settled };
  }

  /** Writes the delivery's new state (and its DLQ record when it is dead), and the endpoint's health; resolves once committed. */
  private async settle(
    hook: CompiledWebhook,
    state: Omit<DeliveryState, 'status'> & { webhook: CompiledWebhook['row'] },
    d: Decision,
    ownJob = false,
    traceparent?: string,
  ): Promise<void> {
    const health = this.engine.record(hook, d.kind === 'success', d.kind === 'dead');
    if (d.kind === 'success') return void (await Promise.all([health, this.log.record(deliveryRow({ ...state, status: 'success' }))]));
    if (d.kind === 'retry')
      return void (await Promise.all([
        health,
        this.log.record(deliveryRow({ ...state, status: 'retrying', nextAttemptAt: new Date(Date.now() + d.delayMs).toISOString() })),
      ]));
    // Without a retry job of its own (first attempt, drain), a failed `dead` job puts it in BullMQ's failed set too.
    const failedJob = ownJob ? undefined : this.queue.addDead({ ...this.retryData(hook, state, traceparent), reason: d.reason });
    await Promise.all([
      this.log.record(deliveryRow({ ...state, status: 'failed', error: d.reason })),
      this.deadLetters.bury({ ...state, reason: d.reason }),
      failedJob,
    ]);
    // After the DLQ record: an auto-disable that follows it counts it.
    await health;
  }
}
