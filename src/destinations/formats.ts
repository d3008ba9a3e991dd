import type { EventEnvelope } from '../events/envelope.js';
import { keyFieldsOf, summaryOf } from './summary.js';

/** Body formats of http(s) destinations (webhook option `format`). */
export const FORMATS = ['standard', 'slack', 'pagerduty'] as const;
export type Format = (typeof FORMATS)[number];

export interface FormatOptions {
  /** PagerDuty: the integration's routing key (required). */
  routingKey?: string;
  /** PagerDuty: `payload.source` (default `humana-events/<organizationId>`). */
  source?: string;
  /** PagerDuty: the severity when the event's data has none (default by type: error.occurred → error, else info). */
  severity?: PagerDutySeverity;
}

type PagerDutySeverity = 'critical' | 'error' | 'warning' | 'info';

/** The operator console's page of an event. */
export function consoleLink(baseUrl: string, eventId: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/admin/#/events/${encodeURIComponent(eventId)}`;
}

/** Slack mrkdwn/plain text: `&`, `<`, `>` are the only characters Slack asks to escape. */
const slackEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A Slack incoming-webhook message: `text` (notification fallback) and Block Kit blocks (type, key fields, console link). */
export function slackMessage(event: EventEnvelope, baseUrl: string): Record<string, unknown> {
  const link = consoleLink(baseUrl, event.id);
  const fields = keyFieldsOf(event).slice(0, 10);
  const blocks: Record<string, unknown>[] = [
    { type: 'header', text: { type: 'plain_text', text: event.type.slice(0, 150), emoji: false } },
  ];
  if (fields.length)
    blocks.push({ type: 'section', fields: fields.map(([k, v]) => ({ type: 'mrkdwn', text: `*${slackEscape(k)}*\n${slackEscape(v)}` })) });
  blocks.push({
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: `${slackEscape(event.id)} · ${slackEscape(event.timestamp)} · organization ${slackEscape(event.organizationId)}`,
      },
    ],
  });
  blocks.push({ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open in the console' }, url: link }] });
  return { text: slackEscape(summaryOf(event)).slice(0, 3000), blocks };
}

const SEVERITY: Record<string, PagerDutySeverity> = {
  critical: 'critical',
  high: 'error',
  error: 'error',
  medium: 'warning',
  warning: 'warning',
  low: 'info',
  info: 'info',
};
const TYPE_SEVERITY: Record<string, PagerDutySeverity> = {
  'error.occurred': 'error',
  'performance.degraded': 'warning',
  'quota.exceeded': 'warning',
};

/** PagerDuty severity: `data.severity` mapped (high → error, medium → warning, low → info), else the option, else by type. */
export function pagerDutySeverity(event: EventEnvelope, fallback?: PagerDutySeverity): PagerDutySeverity {
  const s = (event.data as Record<string, unknown>)?.severity;
  if (typeof s === 'string' && SEVERITY[s.toLowerCase()]) return SEVERITY[s.toLowerCase()];
  return fallback ?? TYPE_SEVERITY[event.type] ?? 'info';
}

/** A PagerDuty Events API v2 `trigger` (dedup_key = event id, so a retried attempt is one incident). */
export function pagerDutyEvent(event: EventEnvelope, options: FormatOptions, baseUrl: string): Record<string, unknown> {
  return {
    routing_key: options.routingKey,
    event_action: 'trigger',
    dedup_key: event.id,
    payload: {
      summary: summaryOf(event).slice(0, 1024),
      source: options.source ?? `humana-events/${event.organizationId}`,
      severity: pagerDutySeverity(event, options.severity),
      timestamp: event.timestamp,
      class: event.type,
      custom_details: event,
    },
    links: [{ href: consoleLink(baseUrl, event.id), text: 'Event in the Humana Events console' }],
  };
}

/** The body for a non-standard format, or null for `standard` (the envelope or the transform decides). */
export function formattedBody(
  format: Format | undefined,
  options: FormatOptions | null,
  event: EventEnvelope,
  baseUrl: string,
): string | null {
  if (format === 'slack') return JSON.stringify(slackMessage(event, baseUrl));
  if (format === 'pagerduty') return JSON.stringify(pagerDutyEvent(event, options ?? {}, baseUrl));
  return null;
}
