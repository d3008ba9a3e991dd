// Event history (SQL), newest first, filtered and cursor-paged.
import { h } from '../lib/dom.js';
import { localInputToIso, toQuery } from '../lib/query.js';
import { field, section } from '../ui/components.js';
import { eventTypeSelect } from '../ui/event-types.js';
import { eventRow } from '../ui/event-row.js';
import { pagedList } from '../ui/paged-list.js';

/** @typedef {import('../lib/context.js').Ctx} Ctx */
/** @typedef {import('../lib/api.js').Schemas} Schemas */

/**
 * @param {Ctx} ctx
 */
export function historyView(ctx) {
  const eventType = eventTypeSelect(ctx);
  const companionId = h('input', { name: 'companionId', class: 'mono', placeholder: 'comp-123' });
  const userId = h('input', { name: 'userId', class: 'mono', placeholder: 'user-789' });
  const from = h('input', { name: 'from', type: 'datetime-local', step: 1 });
  const to = h('input', { name: 'to', type: 'datetime-local', step: 1 });
  const limit = h(
    'select',
    { name: 'limit' },
    [25, 50, 100, 250, 1000].map((n) => h('option', { value: n, selected: n === 50 }, String(n))),
  );

  const list = pagedList({
    label: 'events',
    emptyText: 'No event matches.',
    fetchPage: async (cursor) => {
      const r = /** @type {Schemas['HistoryPage']} */ (
        await ctx.api.get(
          `/api/v1/events/history${toQuery({
            eventType: eventType.value,
            companionId: companionId.value.trim(),
            userId: userId.value.trim(),
            from: localInputToIso(from.value) ?? '',
            to: localInputToIso(to.value) ?? '',
            limit: limit.value,
            cursor,
          })}`,
        )
      );
      return { items: r.events, nextCursor: r.nextCursor };
    },
    render: (events) =>
      h(
        'ol',
        { class: 'event-log', 'aria-label': 'Events, newest first' },
        events.map((e) => eventRow(e)),
      ),
  });

  const form = h(
    'form',
    { class: 'inline-form' },
    field('Event type', eventType),
    field('Companion id', companionId),
    field('User id', userId),
    field('From', from),
    field('To', to),
    field('Page size', limit),
    h('button', { type: 'submit', class: 'primary' }, 'Search'),
  );
  form.addEventListener('submit', (e) => (e.preventDefault(), list.reload()));
  eventType.addEventListener('change', () => list.reload());

  list.reload();
  return {
    el: h(
      'div',
      { class: 'stack' },
      h('div', { class: 'page-head' }, h('h1', {}, 'Event history')),
      section('Events', null, form, list.el),
    ),
  };
}
