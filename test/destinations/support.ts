import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import type { TestApp, TestOrg } from '../support/launcher.js';
import { seedVerifyWebhook } from '../support/seed-verify.js';
import type { Hook } from '../webhooks/fixtures.js';

export const unique = (prefix: string): string => `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;

/** Retries kept short: two attempts one second apart, then the DLQ. */
export const SHORT_RETRY = { maxAttempts: 2, backoffMultiplier: 1, maxDelay: 1 };

/** A webhook to a destination URL (any scheme) in the given organization. */
export async function destinationHook(
  app: TestApp,
  org: TestOrg,
  url: string,
  body: Record<string, unknown> = {},
): Promise<Hook & { url: string }> {
  const res = await app.http
    .post('/api/v1/webhooks')
    .set(org.auth)
    .send({ url, events: ['*'], ...body });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return { org, id: res.body.id, secret: res.body.secret, path: '', url };
}

/** Checks the signature headers a broker message carries against its body, with the webhook's secret. */
export function assertSignedMessage(
  headers: Record<string, unknown>,
  body: string,
  secret: string,
  expect: { eventId: string; eventType: string },
): void {
  const h = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), Buffer.isBuffer(v) ? v.toString() : String(v)]));
  assert.equal(h['x-humana-event'], expect.eventType);
  assert.match(h['x-humana-delivery'], /^del_[0-9A-Z]{30}$/);
  const ts = h['x-humana-timestamp'];
  assert.match(ts, /^\d{10}$/);
  assert.equal(h['webhook-timestamp'], ts);
  assert.equal(h['webhook-id'], expect.eventId);
  assert.ok(seedVerifyWebhook(body, h['x-humana-signature'], secret, ts), "the seed's verifyWebhook accepts X-Humana-Signature");
  new StandardWebhook(secret).verify(body, {
    'webhook-id': h['webhook-id'],
    'webhook-timestamp': ts,
    'webhook-signature': h['webhook-signature'],
  });
  assert.throws(() =>
    new StandardWebhook(`whsec_${randomBytes(24).toString('base64')}`).verify(body, {
      'webhook-id': h['webhook-id'],
      'webhook-timestamp': ts,
      'webhook-signature': h['webhook-signature'],
    }),
  );
}
