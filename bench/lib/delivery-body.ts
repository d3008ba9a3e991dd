import { randomBytes } from 'node:crypto';
import { USER_AGENT } from '../../src/delivery/delivery-executor.js';
import { sign, type SigningKey } from '../../src/webhooks/signing.js';
import { benchEvent } from './events.js';

/** An envelope shaped like a real delivery body (what the app POSTs), for the bare baselines. */
export function envelopeBody(seq: number, scheduledMs: number): string {
  const e = benchEvent(seq, scheduledMs, 'comp-0');
  const timestamp = new Date().toISOString();
  return JSON.stringify({ id: `evt_bench${seq}`, type: e.type, organizationId: 'org_default', timestamp, data: { ...e.data, timestamp } });
}

/**
 * The headers the app sends with a delivery (contract section 6), signed by the app's own `sign()`: both signatures,
 * the event and delivery headers and a traceparent, so the baseline pays for what the app must send. `key` is made
 * once per secret (`signingKey`), as the app does.
 */
export function signedHeaders(key: SigningKey, body: string, messageId: string, eventType = 'message.sent'): Record<string, string> {
  const ts = Math.floor(Date.now() / 1000);
  const sig = sign([key], messageId, ts, body);
  return {
    'user-agent': USER_AGENT,
    'content-type': 'application/json',
    'x-humana-event': eventType,
    'x-humana-delivery': `dlv_${messageId}`,
    'x-humana-timestamp': String(ts),
    'x-humana-signature': sig.humana,
    'webhook-id': messageId,
    'webhook-timestamp': String(ts),
    'webhook-signature': sig.standard,
    traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`,
  };
}
