// One delivery with every attempt (time, status code, duration, error, start of the response body).
import { seg } from '../lib/api.js';
import { h } from '../lib/dom.js';
import { formatDuration } from '../lib/format.js';
import { attemptsTable } from '../ui/attempts.js';
import { asyncRegion, badge, jsonBlock, section, timeCell } from '../ui/components.js';
import { replayButton } from './webhook.js';

/** @typedef {import('../lib/context.js').Ctx} Ctx */
/** @typedef {import('../lib/api.js').Schemas} Schemas */

/**
 * @param {Ctx} ctx
 */
export function deliveryView(ctx) {
  const { id, deliveryId } = ctx.params;
  const region = asyncRegion('the delivery');
  const load = async () => {
    try {
      const d = /** @type {Schemas['DeliveryDetail']} */ (await ctx.api.get(`/api/v1/webhooks/${seg(id)}/deliveries/${seg(deliveryId)}`));
      region.show(
        h(
          'dl',
          { class: 'kv' },
          [
            ['Status', badge(d.status)],
            ['Event', [d.event, ' ', h('code', {}, d.eventId)]],
            ['Endpoint', h('code', { class: 'break' }, d.url)],
            ['HTTP status', d.statusCode ? String(d.statusCode) : '—'],
            ['Duration', formatDuration(d.duration)],
            ['Attempts', String(d.attempts)],
            ['Time', timeCell(d.timestamp)],
            ['Next attempt', d.nextAttemptAt ? timeCell(d.nextAttemptAt) : null],
          ]
            .filter(([, v]) => v !== null)
            .map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
        ),
        h('h3', {}, 'Attempts'),
        attemptsTable(d.attemptHistory),
        jsonBlock(d, 'Raw delivery record'),
      );
    } catch (err) {
      region.fail(err);
    }
  };
  load();
  return {
    el: h(
      'div',
      { class: 'stack' },
      h('p', { class: 'crumbs' }, h('a', { href: '#/webhooks' }, 'Webhooks'), ' / ', h('a', { href: `#/webhooks/${seg(id)}` }, id)),
      h(
        'div',
        { class: 'page-head' },
        h('h1', {}, 'Delivery ', h('span', { class: 'muted mono' }, deliveryId)),
        h(
          'div',
          { class: 'actions' },
          h('button', { type: 'button', onclick: load }, 'Refresh'),
          replayButton(ctx, id, deliveryId, (newId) => newId && ctx.navigate(`#/webhooks/${seg(id)}/deliveries/${seg(newId)}`), 'primary'),
        ),
      ),
      section('Delivery', null, region.el),
    ),
  };
}
