import type { EventEnvelope } from '../events/envelope.js';

/** The data fields that identify an event at a glance (e-mail subjects, Slack and PagerDuty summaries), in this order. */
const KEY_FIELDS = [
  'companionId',
  'userId',
  'sessionId',
  'messageId',
  'streamId',
  'errorId',
  'type',
  'severity',
  'quotaType',
  'action',
  'name',
  'reason',
];

/** The event's key fields that are present, as `[name, value]` (scalars only, values cut to 100 characters). */
export function keyFieldsOf(event: EventEnvelope): [string, string][] {
  const data = (event.data ?? {}) as Record<string, unknown>;
  const out: [string, string][] = [];
  for (const f of KEY_FIELDS) {
    const v = data[f];
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out.push([f, String(v).slice(0, 100)]);
  }
  return out;
}

/** One line: `message.sent - companionId=comp-1, userId=u-1`. */
export function summaryOf(event: EventEnvelope): string {
  const fields = keyFieldsOf(event);
  return fields.length ? `${event.type} - ${fields.map(([k, v]) => `${k}=${v}`).join(', ')}` : event.type;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}
