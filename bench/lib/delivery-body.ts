import { createHmac, randomBytes } from 'node:crypto';
import { benchEvent } from './events.js';

/** An envelope shaped like a real delivery body (what the app POSTs), for the bare baselines. */
export function envelopeBody(seq: number, scheduledMs: number): string {
  const e = benchEvent(seq, scheduledMs, 'comp-0');
  const timestamp = new Date().toISOString();
  return JSON.stringify({ id: `evt_bench${seq}`, type: e.type, organizationId: 'org_default', timestamp, data: { ...e.data, timestamp } });
}

/**
 * The headers the app sends with a delivery (contract section 6): both signatures (X-Humana-Signature, hex HMAC-SHA256
 * of `timestamp.body`; webhook-signature, Standard Webhooks' base64 HMAC of `id.timestamp.body` keyed on the decoded
 * `whsec_` secret), the event and delivery headers and a traceparent, so the baseline pays for what the app must send.
 */
export function signedHeaders(secret: string, body: string, messageId: string, eventType = 'message.sent'): Record<string, string> {
  const ts = Math.floor(Date.now() / 1000);
  const standardKey = secret.startsWith('whsec_') ? Buffer.from(secret.slice('whsec_'.length), 'base64') : Buffer.from(secret);
  return {
    'user-agent': 'HumanaEvents-Webhooks/1.0',
    'content-type': 'application/json',
    'x-humana-event': eventType,
    'x-humana-delivery': `dlv_${messageId}`,
    'x-humana-timestamp': String(ts),
    'x-humana-signature': createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex'),
    'webhook-id': messageId,
    'webhook-timestamp': String(ts),
    'webhook-signature': `v1,${createHmac('sha256', standardKey).update(`${messageId}.${ts}.${body}`).digest('base64')}`,
    traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`,
  };
}
