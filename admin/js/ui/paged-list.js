// A cursor-paginated list: first page on reload(), "Load more" follows nextCursor, items accumulate.
import { h, replace } from '../lib/dom.js';
import { empty, errorBox } from './components.js';

/**
 * @template T
 * @param {{ label: string, emptyText: string,
 *   fetchPage: (cursor?: string) => Promise<{ items: T[], nextCursor?: string | null }>,
 *   render: (items: T[]) => Node }} options
 */
export function pagedList({ label, emptyText, fetchPage, render }) {
  const body = h('div', { class: 'region', 'aria-live': 'polite' });
  const footer = h('div', { class: 'pager' });
  /** @type {T[]} */
  let items = [];
  let generation = 0;

  /** @param {string} [cursor] */
  async function loadPage(cursor) {
    const mine = ++generation;
    if (!cursor) {
      body.setAttribute('aria-busy', 'true');
      replace(body, h('p', { class: 'muted' }, `Loading ${label}…`));
      replace(footer);
    }
    try {
      const page = await fetchPage(cursor);
      if (mine !== generation) return; // a newer reload (filters changed) won
      items = cursor ? [...items, ...page.items] : page.items;
      replace(body, items.length ? render(items) : empty(emptyText));
      replace(
        footer,
        items.length ? h('span', { class: 'muted' }, `${items.length} shown`) : null,
        page.nextCursor
          ? h(
              'button',
              {
                type: 'button',
                onclick: (/** @type {MouseEvent} */ e) => {
                  /** @type {HTMLButtonElement} */ (e.currentTarget).disabled = true;
                  loadPage(page.nextCursor ?? undefined);
                },
              },
              'Load more',
            )
          : null,
      );
    } catch (err) {
      if (mine !== generation) return;
      if (cursor) replace(footer, errorBox(err));
      else replace(body, errorBox(err));
    } finally {
      if (mine === generation) body.removeAttribute('aria-busy');
    }
  }

  return { el: h('div', {}, body, footer), reload: () => loadPage(undefined), items: () => items };
}
