// The event catalog: built-in types and the organization's own (register one with a JSON Schema, view one).
import { ApiError, seg } from '../lib/api.js';
import { h, replace } from '../lib/dom.js';
import { parseJsonObject } from '../lib/query.js';
import { exampleEventData } from '../lib/schema-example.js';
import {
  asyncRegion,
  badge,
  dataTable,
  empty,
  errorBox,
  field,
  jsonBlock,
  notify,
  section,
  showFieldErrors,
  timeCell,
} from '../ui/components.js';

/** @typedef {import('../lib/context.js').Ctx} Ctx */
/** @typedef {import('../lib/api.js').Schemas} Schemas */

const SCHEMA_PLACEHOLDER = JSON.stringify(
  { type: 'object', required: ['orderId'], properties: { orderId: { type: 'string' }, total: { type: 'number', minimum: 0 } } },
  null,
  2,
);

/**
 * @param {Ctx} ctx
 */
export function eventTypesView(ctx) {
  const list = asyncRegion('event types');
  async function load() {
    try {
      const r = /** @type {Schemas['EventTypeList']} */ (await ctx.api.get('/api/v1/event-types'));
      const types = r.eventTypes;
      list.show(
        types.length
          ? dataTable(
              [
                { label: 'Type', render: (t) => h('a', { href: `#/event-types/${seg(t.type)}`, class: 'mono' }, t.type) },
                { label: 'Category', render: (t) => t.category },
                { label: 'Origin', render: (t) => badge(t.builtIn ? 'built-in' : 'custom', t.builtIn ? 'muted' : 'ok') },
                { label: 'Version', render: (t) => String(t.version) },
                { label: 'Description', render: (t) => t.description || '—' },
              ],
              types,
              'Event types',
            )
          : empty('No event types.'),
      );
    } catch (err) {
      list.fail(err);
    }
  }

  const name = h('input', { name: 'name', required: true, class: 'mono', placeholder: 'order.shipped', autocomplete: 'off' });
  const description = h('input', { name: 'description', maxLength: 500 });
  const schema = h('textarea', { name: 'schema', rows: 10, class: 'mono', spellcheck: false, value: SCHEMA_PLACEHOLDER });
  const message = h('div', { 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Register type');
  const form = h(
    'form',
    { class: 'form-grid', novalidate: true },
    field('Name', name, { hint: 'category.action, lower case (e.g. order.shipped)' }),
    field('Description', description),
    field('JSON Schema of data (draft 2020-12)', schema, { wide: true, hint: 'Published events of this type are validated against it.' }),
    h('div', { class: 'actions wide' }, submit),
    h('div', { class: 'wide' }, message),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const parsed = parseJsonObject(schema.value);
    const problems = [];
    if (!name.value.trim()) problems.push({ field: 'name', message: 'Required' });
    if (parsed.error || !parsed.value) problems.push({ field: 'schema', message: parsed.error ?? 'Required' });
    showFieldErrors(form, problems);
    replace(message);
    if (problems.length) return;
    submit.disabled = true;
    try {
      const created = /** @type {Schemas['EventType']} */ (
        await ctx.api.post('/api/v1/event-types', {
          name: name.value.trim(),
          ...(description.value.trim() ? { description: description.value.trim() } : {}),
          schema: parsed.value,
        })
      );
      notify(`Event type ${created.type} registered`, 'success');
      ctx.invalidateCatalog();
      form.reset();
      schema.value = SCHEMA_PLACEHOLDER;
      load();
    } catch (err) {
      showFieldErrors(form, err instanceof ApiError ? err.details : []);
      replace(message, errorBox(err));
    } finally {
      submit.disabled = false;
    }
  });

  load();
  return {
    el: h(
      'div',
      { class: 'stack' },
      h(
        'div',
        { class: 'page-head' },
        h('h1', {}, 'Event types'),
        h('div', { class: 'actions' }, h('button', { type: 'button', onclick: load }, 'Refresh')),
      ),
      section('Catalog', null, list.el),
      ctx.session.apiKey ? section('Register a custom type', null, form) : null,
    ),
  };
}

/**
 * @param {Ctx} ctx
 */
export function eventTypeView(ctx) {
  const { name } = ctx.params;
  const region = asyncRegion('the event type');
  ctx.api.get(`/api/v1/event-types/${seg(name)}`).then(
    (body) => {
      const t = /** @type {Schemas['EventType']} */ (body);
      region.show(
        h(
          'dl',
          { class: 'kv' },
          [
            ['Type', h('code', {}, t.type)],
            ['Category', t.category],
            ['Origin', badge(t.builtIn ? 'built-in' : 'custom', t.builtIn ? 'muted' : 'ok')],
            ['Version', String(t.version)],
            ['Description', t.description || '—'],
            ['Created', t.createdAt ? timeCell(t.createdAt) : '—'],
          ].map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
        ),
        h('h3', {}, 'Schema of data'),
        jsonBlock(t.schema, 'JSON Schema', true),
        h('h3', {}, 'Example data'),
        jsonBlock(t.examples?.length ? t.examples[0] : exampleEventData(t.schema), 'example', true),
      );
    },
    (err) => region.fail(err),
  );
  return {
    el: h(
      'div',
      { class: 'stack' },
      h('p', { class: 'crumbs' }, h('a', { href: '#/event-types' }, '← Event types')),
      h('h1', {}, 'Event type ', h('span', { class: 'mono' }, name)),
      section('Definition', null, region.el),
    ),
  };
}
