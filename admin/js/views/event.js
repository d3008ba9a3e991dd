// One event by id (#/events/{id}): its envelope and data. Slack and PagerDuty messages link here.
import { seg } from '../lib/api.js';
import { h } from '../lib/dom.js';
import { prettyJson } from '../lib/format.js';
import { asyncRegion, section, timeCell } from '../ui/components.js';

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
        h('h3', {}, 'Deliveries'),
        // GET /api/v1/webhooks/{id}/deliveries filters by status and event type only: there is no lookup by event id.
        h(
          'p',
          { class: 'muted' },
          'The API lists deliveries per webhook (by status and event type), not per event: open a ',
          h('a', { href: '#/webhooks' }, 'webhook'),
          ' and filter its deliveries by ',
          h('code', {}, e.type),
          ' to find the ones of this event.',
        ),
      );
    },
    (err) => region.fail(err),
  );
  return {
    el: h(
      'div',
      { class: 'stack' },
      h('p', { class: 'crumbs' }, h('a', { href: '#/history' }, '← History')),
      h('div', { class: 'page-head' }, h('h1', {}, 'Event ', h('span', { class: 'muted mono' }, id))),
      section('Event', null, region.el),
    ),
  };
}
