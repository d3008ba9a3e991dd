// One event by id (#/events/{id}): its envelope, its data and its deliveries. Slack and PagerDuty messages link here.
import { seg } from '../lib/api.js';
import { h } from '../lib/dom.js';
import { formatDuration, prettyJson } from '../lib/format.js';
import { toQuery } from '../lib/query.js';
import { asyncRegion, badge, dataTable, section, timeCell } from '../ui/components.js';
import { pagedList } from '../ui/paged-list.js';

/** @typedef {import('../lib/context.js').Ctx} Ctx */
/** @typedef {import('../lib/api.js').Schemas} Schemas */

/** @param {Ctx} ctx */
export function eventView(ctx) {
  const { id } = ctx.params;
  const region = asyncRegion('the event');
  ctx.api.get(`/api/v1/events/${seg(id)}`).then(
    (body) => {
      const e = /** @type {Schemas['EventEnvelope']} */ (body);
      region.show(
        h(
          'dl',
          { class: 'kv' },
          [
            ['Id', h('code', {}, e.id)],
            ['Type', h('a', { href: `#/event-types/${seg(e.type)}`, class: 'chip type' }, e.type)],
            ['Organization', h('code', {}, e.organizationId)],
            ['Published', timeCell(e.timestamp)],
          ].map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
        ),
        h('h3', {}, 'Data'),
        h('pre', { tabIndex: 0, 'aria-label': 'Event data' }, prettyJson(e.data)),
      );
    },
    (err) => region.fail(err),
  );
  const deliveries = pagedList({
    label: 'deliveries',
    emptyText: 'No deliveries of this event.',
    fetchPage: async (cursor) => {
      const r = /** @type {Schemas['DeliveryList']} */ (
        await ctx.api.get(`/api/v1/events/${seg(id)}/deliveries${toQuery({ limit: 100, cursor })}`)
      );
      return { items: r.deliveries, nextCursor: r.nextCursor };
    },
    render: (items) =>
      dataTable(
        [
          { label: 'Time', render: (d) => timeCell(d.timestamp) },
          {
            label: 'Webhook',
            render: (d) => [
              h('a', { href: `#/webhooks/${seg(d.webhookId)}`, class: 'mono' }, d.webhookId),
              h('div', { class: 'muted mono small-text' }, d.url),
            ],
          },
          { label: 'Status', render: (d) => badge(d.status) },
          { label: 'HTTP', render: (d) => (d.statusCode ? String(d.statusCode) : '—') },
          { label: 'Duration', render: (d) => formatDuration(d.duration) },
          { label: 'Attempts', render: (d) => String(d.attempts) },
          {
            label: 'Delivery',
            render: (d) => h('a', { href: `#/webhooks/${seg(d.webhookId)}/deliveries/${seg(d.id)}`, class: 'mono' }, d.id),
          },
        ],
        items,
        'Deliveries of this event',
      ),
  });
  deliveries.reload();
  return {
    el: h(
      'div',
      { class: 'stack' },
      h('p', { class: 'crumbs' }, h('a', { href: '#/history' }, '← History')),
      h('div', { class: 'page-head' }, h('h1', {}, 'Event ', h('span', { class: 'muted mono' }, id))),
      section('Event', null, region.el),
      section('Deliveries', h('button', { type: 'button', onclick: () => deliveries.reload() }, 'Refresh'), deliveries.el),
    ),
  };
}
