import { createHmac } from 'node:crypto';
import { benchEvent } from './events.js';

/** An envelope shaped like a real delivery body (what the app POSTs), for the bare baselines. */
export function envelopeBody(seq: number, scheduledMs: number): string {
  const e = benchEvent(seq, scheduledMs, 'comp-0');
  const timestamp = new Date().toISOString();
  return JSON.stringify({ id: `evt_bench${seq}`, type: e.type, organizationId: 'org_default', timestamp, data: { ...e.data, timestamp } });
}

/** The contract's X-Humana-* headers (hex HMAC-SHA256 of `timestamp.body`), so the baseline pays for signing too. */
export function signedHeaders(secret: string, body: string, webhookId: string): Record<string, string> {
  const ts = Math.floor(Date.now() / 1000);
  return {
    'x-humana-timestamp': String(ts),
    'x-humana-signature': createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex'),
    'webhook-id': webhookId,
  };
}
