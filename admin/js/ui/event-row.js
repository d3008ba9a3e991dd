// One event as a row of the live view and of the history: a summary line that opens onto the data, and a link to
// the event's own page.
import { h } from '../lib/dom.js';
import { prettyJson } from '../lib/format.js';
import { dataGlance, timeCell } from './components.js';

/** The console's address of an event, as the Slack and PagerDuty formats build it (src/destinations/formats.ts). */
export const eventHref = (/** @type {string} */ id) => `#/events/${encodeURIComponent(id)}`;

/**
 * @param {{ id?: string, type: string, timestamp: string, data: unknown }} event
 * @returns {HTMLLIElement}
 */
export function eventRow(event) {
  const { id, type, timestamp, data } = event;
  const details = h(
    'details',
    {},
    h(
      'summary',
      {},
      timeCell(timestamp),
      h('span', { class: 'chip type' }, type),
      h('code', { class: 'muted' }, id ?? '(no id)'),
      dataGlance(data),
    ),
  );
  // The data is rendered when first opened: the live view adds hundreds of rows a second and few are ever opened.
  details.addEventListener('toggle', () => {
    if (details.open && !details.querySelector('pre')) details.append(h('pre', {}, prettyJson(data)));
  });
  return h(
    'li',
    { dataset: { id: id ?? '' } },
    details,
    // Outside the summary: a link inside it would be an interactive control nested in another.
    id ? h('a', { href: eventHref(id), class: 'button small', 'aria-label': `Open event ${id}` }, 'Open') : null,
  );
}
