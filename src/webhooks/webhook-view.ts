import type { Webhook } from './webhook.entity.js';

/** A webhook as the API shows it: never its secret. */
export interface WebhookView {
  id: string;
  url: string;
  events: string[];
  headers: Record<string, string>;
  filters: Webhook['filters'];
  retry: Webhook['retry'];
  description: string;
  enabled: boolean;
  timeoutMs: number;
  batch: Webhook['batch'];
  transform: string | null;
  createdAt: string;
  updatedAt: string;
}

export function viewOf(w: Webhook): WebhookView {
  return {
    id: w.id,
    url: w.url,
    events: w.events,
    headers: w.headers,
    filters: w.filters,
    retry: w.retry,
    description: w.description,
    enabled: w.enabled,
    timeoutMs: w.timeoutMs,
    batch: w.batch,
    transform: w.transform,
    createdAt: w.createdAt,
    updatedAt: w.updatedAt,
  };
}
