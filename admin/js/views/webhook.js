// One webhook: its settings, its actions, and its deliveries (filter by status and event type, replay).
import { seg } from '../lib/api.js';
import { h, replace } from '../lib/dom.js';
import { describeFilter, formatDuration, maskSecret } from '../lib/format.js';
import { toQuery } from '../lib/query.js';
import { asyncRegion, badge, dataTable, field, notify, section, timeCell, withBusy } from '../ui/components.js';
import { eventTypeSelect } from '../ui/event-types.js';
import { pagedList } from '../ui/paged-list.js';
import { eventChips, webhookActions } from './webhooks.js';

/** @typedef {import('../lib/context.js').Ctx} Ctx */
/** @typedef {import('../lib/api.js').Schemas} Schemas */

export const DELIVERY_STATUSES = ['pending', 'success', 'retrying', 'failed'];

/**
 * A Replay button for one delivery; calls onDone(newDeliveryId).
 * @param {Ctx} ctx
 * @param {string} webhookId
 * @param {string} deliveryId
 * @param {(deliveryId: string) => void} [onDone]
 */
export function replayButton(ctx, webhookId, deliveryId, onDone, className = 'small') {
  const button = h('button', { type: 'button', class: className }, 'Replay');
  button.addEventListener('click', async () => {
    const r = await withBusy(
      button,
      async () =>
        /** @type {Schemas['QueuedDelivery']} */ (
          await ctx.api.post(`/api/v1/webhooks/${seg(webhookId)}/deliveries/${seg(deliveryId)}/replay`)
        ),
    );
    if (!r || r === true) return;
    notify(`Replay queued as ${r.deliveryId}`, 'success');
    onDone?.(r.deliveryId);
  });
  return button;
}

/**
 * Readable filter conditions, one per line (operators as ≥, <, is not, exists).
 * @param {Schemas['WebhookView']['filters']} filters
 */
export function filterList(filters) {
  const entries = filters && typeof filters === 'object' ? Object.entries(filters) : [];
  return entries.length
    ? h(
        'ul',
        { class: 'plain' },
        entries.map(([f, c]) => h('li', {}, h('code', {}, describeFilter(f, c)))),
      )
    : 'none';
}

/**
 * Endpoint health (circuit breaker / auto-disable).
 * @param {Schemas['EndpointHealth']} health
 */
function healthCell(health) {
  const facts = [
    `${health.consecutiveFailures} consecutive failure(s)`,
    health.lastSuccessAt ? ['last success ', timeCell(health.lastSuccessAt)] : null,
    health.lastFailureAt ? ['last failure ', timeCell(health.lastFailureAt)] : null,
    health.disabledAt ? ['disabled ', timeCell(health.disabledAt), health.disabledReason ? ` (${health.disabledReason})` : ''] : null,
  ].filter(Boolean);
  return [
    badge(health.state.replace('_', ' '), { healthy: 'ok', failing: 'warn', circuit_open: 'bad', disabled: 'muted' }[health.state]),
    facts.map((f) => h('span', { class: 'chip' }, f)),
  ];
}

/** @param {Schemas['WebhookDetail']} webhook */
function transformHealthCell(webhook) {
  if (!webhook.transform) return 'none';
  const th = webhook.transformHealth;
  return [
    h('code', { class: 'break' }, String(webhook.transform)),
    h(
      'div',
      {},
      th.consecutiveFailures > 0
        ? [
            badge('failing', 'bad'),
            ` ${th.consecutiveFailures} consecutive failure(s)`,
            th.lastFailureAt ? [', last ', timeCell(th.lastFailureAt)] : '',
            th.lastError ? h('div', { class: 'error-box' }, String(th.lastError)) : null,
          ]
        : badge('healthy'),
    ),
  ];
}

/** @param {Schemas['WebhookDetail']} webhook */
function summary(webhook) {
  /** @type {Array<[string, unknown] | null>} */
  const rows = [
    ['Id', h('code', {}, webhook.id)],
    ['Endpoint', h('code', { class: 'break' }, webhook.url)],
    ['Transport', h('span', { class: 'chip' }, webhook.transport)],
    ['Description', webhook.description || '—'],
    ['Status', [badge(webhook.enabled === false ? 'disabled' : 'enabled'), webhook.paused ? [' ', badge('paused')] : null]],
    ['Health', healthCell(webhook.health)],
    ['Events', eventChips(webhook.events)],
    ['Retries', `${webhook.retry.maxAttempts} attempts, ×${webhook.retry.backoffMultiplier} backoff, ≤ ${webhook.retry.maxDelay} s`],
    ['Timeout', formatDuration(webhook.timeoutMs)],
    ['Filters', filterList(webhook.filters)],
    ['Transform', transformHealthCell(webhook)],
    webhook.batch ? ['Batching', `up to ${webhook.batch.maxSize} events or ${formatDuration(webhook.batch.maxWaitMs)}`] : null,
    [
      'Circuit breaker',
      `opens after ${webhook.circuitBreaker.failureThreshold} consecutive failures, probes every ${formatDuration(webhook.circuitBreaker.probeIntervalMs)}`,
    ],
    [
      'Auto-disable',
      `after ${formatDuration(webhook.autoDisable.afterMs)} of failures and ${webhook.autoDisable.minFailures} dead letters`,
    ],
    ['Rate limit', webhook.rateLimit ? `${webhook.rateLimit.perSecond} / s` : 'unlimited'],
    ['Ordering', webhook.ordering ? ['by ', h('code', {}, webhook.ordering.key)] : 'none'],
    webhook.format !== 'standard'
      ? [
          'Body format',
          [
            h('span', { class: 'chip' }, webhook.format),
            webhook.formatOptions?.routingKey
              ? h('span', { class: 'chip mono' }, `routing key ${maskSecret(webhook.formatOptions.routingKey)}`)
              : null,
            webhook.formatOptions?.severity ? h('span', { class: 'chip' }, `severity ${webhook.formatOptions.severity}`) : null,
            webhook.formatOptions?.source ? h('span', { class: 'chip' }, `source ${webhook.formatOptions.source}`) : null,
          ],
        ]
      : null,
    webhook.variants?.length ? ['Variants', webhook.variants.map((v) => h('span', { class: 'chip' }, `${v.url} × ${v.weight}`))] : null,
    [
      'Custom headers',
      Object.keys(webhook.headers).length ? Object.keys(webhook.headers).map((k) => h('span', { class: 'chip' }, k)) : 'none',
    ],
    ['Created', timeCell(webhook.createdAt)],
  ];
  return h(
    'dl',
    { class: 'kv' },
    rows.map((row) => row && [h('dt', {}, row[0]), h('dd', {}, row[1])]),
  );
}

/**
 * @param {Ctx} ctx
 */
export function webhookView(ctx) {
  const id = ctx.params.id;
  const base = `/api/v1/webhooks/${seg(id)}`;
  const title = h('h1', {}, 'Webhook');
  const headActions = h('div', { class: 'actions' });
  const details = asyncRegion('the webhook');
  const backlogRegion = h('p', { class: 'muted' });
  /** Pending deliveries (the engine's backlog route). */
  async function loadBacklog() {
    try {
      const b = /** @type {Schemas['Backlog']} */ (await ctx.api.get(`${base}/backlog`));
      replace(
        backlogRegion,
        'Backlog: ',
        h('strong', { dataset: { pending: String(b.pending) } }, `${b.pending} pending`),
        b.oldestAt ? [', oldest ', timeCell(b.oldestAt)] : '',
      );
    } catch {
      replace(backlogRegion);
    }
  }

  async function loadWebhook() {
    try {
      const webhook = /** @type {Schemas['WebhookDetail']} */ (await ctx.api.get(base));
      replace(title, 'Webhook ', h('span', { class: 'muted mono' }, webhook.id));
      replace(
        headActions,
        h('a', { href: `#/dlq?webhookId=${encodeURIComponent(webhook.id)}`, class: 'button small' }, 'Dead letters'),
        h('a', { href: `#/webhooks/${seg(id)}/edit`, class: 'button small' }, 'Edit'),
        webhookActions(ctx, webhook, { onChange: loadWebhook, onDelete: () => ctx.navigate('#/webhooks') }),
      );
      details.show(summary(webhook), backlogRegion);
      loadBacklog();
    } catch (err) {
      details.fail(err);
    }
  }

  const status = h(
    'select',
    { name: 'status' },
    h('option', { value: '' }, 'Any status'),
    DELIVERY_STATUSES.map((s) => h('option', { value: s }, s)),
  );
  const eventType = eventTypeSelect(ctx);
  const filters = h(
    'form',
    { class: 'inline-form' },
    field('Status', status),
    field('Event type', eventType),
    h('button', { type: 'submit' }, 'Apply'),
  );
  const deliveries = pagedList({
    label: 'deliveries',
    emptyText: 'No deliveries match.',
    fetchPage: async (cursor) => {
      const r = /** @type {Schemas['DeliveryList']} */ (
        await ctx.api.get(`${base}/deliveries${toQuery({ status: status.value, eventType: eventType.value, limit: 50, cursor })}`)
      );
      return { items: r.deliveries, nextCursor: r.nextCursor };
    },
    render: (items) =>
      dataTable(
        [
          { label: 'Time', render: (d) => timeCell(d.timestamp) },
          { label: 'Event', render: (d) => [h('span', {}, d.event), h('div', { class: 'muted mono small-text' }, d.eventId)] },
          { label: 'Status', render: (d) => badge(d.status) },
          { label: 'HTTP', render: (d) => (d.statusCode ? String(d.statusCode) : '—') },
          { label: 'Duration', render: (d) => formatDuration(d.duration) },
          { label: 'Attempts', render: (d) => String(d.attempts) },
          { label: 'Delivery', render: (d) => h('a', { href: `#/webhooks/${seg(id)}/deliveries/${seg(d.id)}`, class: 'mono' }, d.id) },
          { label: '', class: 'actions-cell', render: (d) => replayButton(ctx, id, d.id, () => deliveries.reload()) },
        ],
        items,
        'Deliveries',
      ),
  });
  filters.addEventListener('submit', (e) => (e.preventDefault(), deliveries.reload()));
  status.addEventListener('change', () => deliveries.reload());
  eventType.addEventListener('change', () => deliveries.reload());

  loadWebhook();
  deliveries.reload();
  return {
    el: h(
      'div',
      { class: 'stack' },
      h('p', { class: 'crumbs' }, h('a', { href: '#/webhooks' }, '← Webhooks')),
      h('div', { class: 'page-head' }, title, headActions),
      section('Settings', h('button', { type: 'button', onclick: loadWebhook }, 'Refresh settings'), details.el),
      section('Deliveries', h('button', { type: 'button', onclick: () => deliveries.reload() }, 'Refresh'), filters, deliveries.el),
    ),
  };
}
