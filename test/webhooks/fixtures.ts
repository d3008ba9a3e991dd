import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import type { FailedWebhook } from '../../src/delivery/dead-letters.js';
import type { DeliveryDetail, DeliverySummary } from '../../src/delivery/deliveries.service.js';
import { exampleEvents, type EventType } from '../../src/events/catalog.js';
import { createOrg, type TestApp, type TestOrg } from '../support/launcher.js';
import type { Received, Receiver } from '../support/receiver.js';
import { seedVerifyWebhook } from '../support/seed-verify.js';
import { waitFor } from '../support/time.js';

export interface Hook {
  org: TestOrg;
  id: string;
  secret: string;
  path: string;
}

/** A fresh organization with one webhook to `${receiverUrl}${path}` (tests stay independent when run concurrently). */
export async function hookFor(app: TestApp, receiverUrl: string, body: Record<string, unknown>, org?: TestOrg): Promise<Hook> {
  const o = org ?? (await createOrg(app));
  const path = `/${randomBytes(4).toString('hex')}`;
  const res = await app.http
    .post('/api/v1/webhooks')
    .set(o.auth)
    .send({ url: `${receiverUrl}${path}`, ...body });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return { org: o, id: res.body.id, secret: res.body.secret, path };
}

export async function publish(
  app: TestApp,
  org: TestOrg,
  type: EventType,
  data: Record<string, unknown> = {},
): Promise<{ id: string; type: string; timestamp: string; organizationId: string; data: Record<string, unknown> }> {
  const res = await app.http
    .post('/api/v1/events')
    .set(org.auth)
    .send({ type, data: { ...exampleEvents[type], ...data } });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  return res.body;
}

/** Publishes `count` distinct message.sent events (content f0, f1, …) for the organization, `perBatch` per batch request. */
export async function publishFlood(app: TestApp, org: TestOrg, count: number, perBatch: number): Promise<void> {
  for (let i = 0; i < count; i += perBatch) {
    const events = Array.from({ length: Math.min(perBatch, count - i) }, (_, j) => ({
      type: 'message.sent',
      data: { ...exampleEvents['message.sent'], content: `f${i + j}` },
    }));
    await app.http.post('/api/v1/events/batch').set(org.auth).send({ events }).expect(202);
  }
}

export async function deliveriesOf(app: TestApp, hook: Hook, query = ''): Promise<DeliverySummary[]> {
  const res = await app.http.get(`/api/v1/webhooks/${hook.id}/deliveries${query}`).set(hook.org.auth).expect(200);
  return res.body.deliveries;
}

/** Waits until the webhook has a delivery in the given status and returns its detail. */
export async function deliveryIn(app: TestApp, hook: Hook, status: string, timeoutMs = 10_000): Promise<DeliveryDetail> {
  const summary = await waitFor(async () => (await deliveriesOf(app, hook, `?status=${status}`))[0], timeoutMs);
  return (await app.http.get(`/api/v1/webhooks/${hook.id}/deliveries/${summary.id}`).set(hook.org.auth).expect(200)).body;
}

export async function dlqOf(app: TestApp, hook: Hook): Promise<FailedWebhook[]> {
  const res = await app.http.get(`/api/v1/dlq?webhookId=${hook.id}`).set(hook.org.auth).expect(200);
  return res.body.failedWebhooks;
}

/** Checks every contract header and both signatures of one received request. */
export function assertSigned(
  r: Received,
  secret: string,
  expect: { eventId: string; eventType: string },
  extraSecrets: string[] = [],
): void {
  const h = r.headers;
  assert.equal(h['content-type'], 'application/json');
  assert.equal(h['x-humana-event'], expect.eventType);
  assert.match(String(h['x-humana-delivery']), /^del_[0-9A-Z]{30}$/);
  const ts = String(h['x-humana-timestamp']);
  assert.match(ts, /^\d{10}$/);
  assert.ok(Math.abs(Number(ts) - Date.now() / 1000) < 30, 'timestamp is now');
  assert.equal(h['webhook-timestamp'], ts);
  assert.equal(h['webhook-id'], expect.eventId);
  assert.match(String(h['x-humana-signature']), /^[0-9a-f]{64}$/);
  assert.ok(seedVerifyWebhook(r.body, String(h['x-humana-signature']), secret, ts), "the seed's verifyWebhook accepts X-Humana-Signature");
  const std = { 'webhook-id': String(h['webhook-id']), 'webhook-timestamp': ts, 'webhook-signature': String(h['webhook-signature']) };
  for (const s of [secret, ...extraSecrets]) new StandardWebhook(s).verify(r.body, std);
  assert.throws(() => new StandardWebhook(`whsec_${randomBytes(24).toString('base64')}`).verify(r.body, std));
}

/** waitFor for values that are null/undefined until ready. */
export async function until<T>(fn: () => Promise<T | null | undefined> | T | null | undefined, timeoutMs = 10_000): Promise<T> {
  return (await waitFor(fn, timeoutMs)) as T;
}

/** The requests to `path` once there are at least n. */
export function arrived(rx: Receiver, path: string, n = 1, timeoutMs = 10_000): Promise<Received[]> {
  return until(() => (rx.at(path).length >= n ? rx.at(path) : null), timeoutMs);
}
