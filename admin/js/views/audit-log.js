// The organization's audit log (needs the audit:read scope): who changed what, with before/after snapshots.
import { h } from '../lib/dom.js';
import { toQuery } from '../lib/query.js';
import { dataTable, field, jsonBlock, section, timeCell } from '../ui/components.js';
import { pagedList } from '../ui/paged-list.js';

/** @typedef {import('../lib/context.js').Ctx} Ctx */
/** @typedef {import('../lib/api.js').Schemas} Schemas */

/**
 * @param {Ctx} ctx
 */
export function auditLogView(ctx) {
  const action = h('input', { name: 'action', class: 'mono', placeholder: 'webhook.created', value: ctx.query.get('action') ?? '' });
  const list = pagedList({
    label: 'audit entries',
    emptyText: 'No audit entry matches.',
    fetchPage: async (cursor) => {
      const r = /** @type {Schemas['AuditPage']} */ (
        await ctx.api.get(`/api/v1/audit-log${toQuery({ action: action.value.trim(), limit: 50, cursor })}`)
      );
      return { items: r.entries, nextCursor: r.nextCursor };
    },
    render: (entries) =>
      dataTable(
        [
          { label: 'Time', render: (e) => timeCell(e.timestamp) },
          { label: 'Action', render: (e) => h('span', { class: 'chip type' }, e.action) },
          { label: 'Resource', render: (e) => (e.resourceId ? h('code', {}, e.resourceId) : '—') },
          { label: 'Actor', render: (e) => h('code', { class: 'muted' }, e.actor) },
          {
            label: 'Change',
            render: (e) => [e.before ? jsonBlock(e.before, 'before') : null, e.after ? jsonBlock(e.after, 'after') : null],
          },
        ],
        entries,
        'Audit log',
      ),
  });
  const form = h('form', { class: 'inline-form' }, field('Action', action), h('button', { type: 'submit', class: 'primary' }, 'Filter'));
  form.addEventListener('submit', (e) => (e.preventDefault(), list.reload()));
  list.reload();
  return {
    el: h(
      'div',
      { class: 'stack' },
      h(
        'div',
        { class: 'page-head' },
        h('h1', {}, 'Audit log'),
        h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => list.reload() }, 'Refresh')),
      ),
      section(
        'Entries',
        null,
        h('p', { class: 'muted' }, 'Changes made with this organization’s keys; secrets are masked. Needs the audit:read scope.'),
        form,
        list.el,
      ),
    ),
  };
}
