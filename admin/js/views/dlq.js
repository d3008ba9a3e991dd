// The dead letter queue: deliveries that exhausted their retries. Inspect, retry one or all matching, purge old ones.
import { seg } from '../lib/api.js';
import { h } from '../lib/dom.js';
import { truncate } from '../lib/format.js';
import { localInputToIso, toQuery } from '../lib/query.js';
import { attemptsTable } from '../ui/attempts.js';
import { confirmDialog, dataTable, errorBox, field, infoDialog, jsonBlock, notify, section, timeCell, withBusy } from '../ui/components.js';
import { eventTypeSelect } from '../ui/event-types.js';
import { pagedList } from '../ui/paged-list.js';

/** @typedef {import('../lib/context.js').Ctx} Ctx */
/** @typedef {import('../lib/api.js').Schemas} Schemas */

/** @param {Record<string, string | null>} f */
function describeFilters(f) {
  const parts = Object.entries(f)
    .filter(([, v]) => v)
    .map(([k, v]) => `${k} = ${v}`);
  return parts.length ? parts.join(', ') : 'no filter: every entry';
}

/** @param {Schemas['FailedWebhook']} entry */
function detailsDialog(entry) {
  infoDialog(`Dead letter ${entry.id}`, [
    h('p', {}, h('strong', {}, 'Failure: '), entry.failureReason),
    h('h3', {}, 'Attempts'),
    attemptsTable(entry.attempts),
    jsonBlock(entry.event, 'Event', true),
    jsonBlock(entry.originalWebhook, 'Webhook at the time of failure'),
  ]);
}

/**
 * @param {Ctx} ctx
 */
export function dlqView(ctx) {
  const webhookId = h('input', { name: 'webhookId', placeholder: 'wh_…', class: 'mono', value: ctx.query.get('webhookId') ?? '' });
  const eventType = eventTypeSelect(ctx);
  const from = h('input', { name: 'from', type: 'datetime-local', step: 1 });
  const to = h('input', { name: 'to', type: 'datetime-local', step: 1 });
  const filterError = h('div', { 'aria-live': 'polite' });

  /** The filters as the API wants them (ISO times), or null after showing what is wrong. */
  function currentFilters() {
    const f = {
      webhookId: webhookId.value.trim(),
      eventType: eventType.value,
      from: localInputToIso(from.value),
      to: localInputToIso(to.value),
    };
    filterError.replaceChildren();
    if (f.from === null || f.to === null) {
      filterError.append(h('p', { class: 'error-box', role: 'alert' }, 'A date is not valid.'));
      return null;
    }
    return f;
  }

  const list = pagedList({
    label: 'dead letters',
    emptyText: 'The dead letter queue is empty for these filters.',
    fetchPage: async (cursor) => {
      const f = currentFilters();
      if (!f) return { items: [], nextCursor: null };
      const r = /** @type {Schemas['DlqList']} */ (await ctx.api.get(`/api/v1/dlq${toQuery({ ...f, limit: 50, cursor })}`));
      return { items: r.failedWebhooks, nextCursor: r.nextCursor };
    },
    render: (entries) =>
      dataTable(
        [
          { label: 'Failed', render: (e) => timeCell(e.createdAt) },
          {
            label: 'Event',
            render: (e) =>
              'events' in e.event
                ? h('span', {}, `batch of ${e.event.events.length} events`)
                : [h('span', {}, e.event.type), h('div', { class: 'muted mono small-text' }, e.event.id)],
          },
          {
            label: 'Webhook',
            render: (e) => [
              h('a', { href: `#/webhooks/${seg(e.webhookId)}`, class: 'mono' }, e.webhookId),
              h('div', { class: 'muted mono small-text' }, truncate(e.originalWebhook.url, 50)),
            ],
          },
          { label: 'Reason', render: (e) => truncate(e.failureReason, 120) },
          { label: 'Attempts', render: (e) => String(e.attempts.length) },
          { label: 'Last attempt', render: (e) => timeCell(e.lastAttempt) },
          {
            label: 'Actions',
            class: 'actions-cell',
            render: (e) => [h('button', { type: 'button', class: 'small', onclick: () => detailsDialog(e) }, 'Details'), retryOne(e)],
          },
        ],
        entries,
        'Dead letters',
      ),
  });

  /** @param {Schemas['FailedWebhook']} entry */
  function retryOne(entry) {
    if (entry.retryBlockedReason || entry.webhookEnabled === false) {
      const reason =
        entry.retryBlockedReason === 'webhook_disabled' || entry.webhookEnabled === false
          ? 'the webhook is disabled: enable it to retry'
          : String(entry.retryBlockedReason).replace(/_/g, ' ');
      const id = `why-${entry.id}`;
      return [
        h('button', { type: 'button', class: 'small primary', disabled: true, 'aria-describedby': id }, 'Retry'),
        h('small', { id, class: 'muted blocked-reason' }, `Retry blocked: ${reason}`),
      ];
    }
    const button = h('button', { type: 'button', class: 'small primary' }, 'Retry');
    button.addEventListener('click', async () => {
      const r = await withBusy(
        button,
        async () => /** @type {Schemas['QueuedDelivery']} */ (await ctx.api.post(`/api/v1/dlq/${seg(entry.id)}/retry`)),
      );
      if (!r || r === true) return;
      notify(`Dead letter ${entry.id} sent for delivery again (${r.deliveryId})`, 'success');
      list.reload();
    });
    return button;
  }

  const retryAll = h('button', { type: 'button', class: 'primary' }, 'Retry all matching');
  retryAll.addEventListener('click', async () => {
    const f = currentFilters();
    if (!f) return;
    const ok = await confirmDialog({
      title: 'Retry dead letters',
      message: `Send every dead letter matching (${describeFilters(f)}) for delivery again?`,
      confirmLabel: 'Retry all',
    });
    if (!ok) return;
    const body = Object.fromEntries(Object.entries(f).filter(([, v]) => v));
    const r = await withBusy(
      retryAll,
      async () => /** @type {Schemas['BulkRetryResult']} */ (await ctx.api.post('/api/v1/dlq/retry', body)),
    );
    if (!r || r === true) return;
    const skipped = r.skipped ? `; ${r.skipped} left in the queue (${[...new Set(r.skippedEntries.map((s) => s.reason))].join(', ')})` : '';
    const more = r.truncated ? '; more entries match: retry all again for the rest' : '';
    notify(`${r.retried} dead letter(s) sent for delivery again${skipped}${more}`, r.skipped || r.truncated ? 'info' : 'success');
    list.reload();
  });

  const olderThan = h('input', { name: 'olderThan', type: 'datetime-local', step: 1, required: true });
  const purgeResult = h('div', { 'aria-live': 'polite' });
  const purgeForm = h(
    'form',
    { class: 'inline-form' },
    field('Purge entries older than', olderThan),
    h('button', { type: 'submit', class: 'danger' }, 'Purge'),
    purgeResult,
  );
  purgeForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    purgeResult.replaceChildren();
    const iso = localInputToIso(olderThan.value);
    if (!iso) {
      purgeResult.append(h('p', { class: 'error-box', role: 'alert' }, 'Choose a date and time.'));
      return;
    }
    const ok = await confirmDialog({
      title: 'Purge dead letters',
      message: `Delete every dead letter created before ${iso}? This cannot be undone.`,
      confirmLabel: 'Purge',
      danger: true,
    });
    if (!ok) return;
    try {
      const r = /** @type {Schemas['PurgeResult']} */ (await ctx.api.delete(`/api/v1/dlq${toQuery({ olderThan: iso })}`));
      notify(`${r.purged} dead letter(s) purged`, 'success');
      list.reload();
    } catch (err) {
      purgeResult.append(errorBox(err));
    }
  });

  const filters = h(
    'form',
    { class: 'inline-form' },
    field('Webhook id', webhookId),
    field('Event type', eventType),
    field('From', from),
    field('To', to),
    h('button', { type: 'submit' }, 'Apply'),
    filterError,
  );
  filters.addEventListener('submit', (e) => (e.preventDefault(), list.reload()));
  eventType.addEventListener('change', () => list.reload());

  list.reload();
  return {
    el: h(
      'div',
      { class: 'stack' },
      h(
        'div',
        { class: 'page-head' },
        h('h1', {}, 'Dead letter queue'),
        h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => list.reload() }, 'Refresh'), retryAll),
      ),
      section('Entries', null, filters, list.el),
      section('Purge', null, h('p', { class: 'muted' }, 'A scheduled job also removes entries older than DLQ_RETENTION_DAYS.'), purgeForm),
    ),
  };
}
