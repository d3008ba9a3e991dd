// Controls fed by the event catalog (GET /api/v1/event-types).
import { h } from '../lib/dom.js';

/** @typedef {import('../lib/context.js').Ctx} Ctx */

/**
 * An event-type <select>: "any" first, then the catalog's types (added when it arrives).
 * @param {Ctx} ctx
 */
export function eventTypeSelect(ctx, name = 'eventType', anyLabel = 'Any type') {
  const select = h('select', { name }, h('option', { value: '' }, anyLabel));
  ctx.catalog().then(
    (types) => select.append(...types.map((t) => h('option', { value: t.type }, t.type))),
    () => undefined, // "any" still works; the publish form is where a missing catalog is reported
  );
  return select;
}
