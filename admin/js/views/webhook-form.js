// Create a webhook (or edit one: #/webhooks/{id}/edit): URL, events, filters, headers, retry settings.
import { ApiError, seg } from '../lib/api.js';
import { h, replace } from '../lib/dom.js';
import { parseJsonObject, splitList } from '../lib/query.js';
import { errorBox, field, notify, secretField, showFieldErrors } from '../ui/components.js';

/** @typedef {import('../lib/context.js').Ctx} Ctx */
/** @typedef {import('../lib/api.js').Schemas} Schemas */

/** The webhook body formats (src/destinations/formats.ts). */
const FORMATS = ['standard', 'slack', 'pagerduty'];

const SEVERITIES = ['critical', 'error', 'warning', 'info'];

/**
 * The non-empty format options, or null when none is set.
 * @param {{ routingKey: string, severity: string, source: string }} values
 */
function formatOptionsOf(values) {
  const set = Object.entries(values)
    .map(([k, v]) => [k, v.trim()])
    .filter(([, v]) => v);
  return set.length ? Object.fromEntries(set) : null;
}

/** @type {Array<[keyof Schemas['WebhookView']['retry'], string, number, number, number, number]>} */
const RETRY_FIELDS = [
  ['maxAttempts', 'Max attempts', 1, 20, 1, 3],
  ['backoffMultiplier', 'Backoff multiplier', 1, 10, 0.1, 2],
  ['maxDelay', 'Max delay (s)', 1, 86400, 1, 300],
];

/**
 * @param {Promise<Schemas['EventType'][]>} catalogPromise
 * @param {string[]} selected
 */
function eventPicker(catalogPromise, selected) {
  const container = h('div', { class: 'checks-groups' }, h('p', { class: 'muted' }, 'Loading event types…'));
  /** @type {HTMLInputElement[]} */
  const boxes = [];
  const chosen = new Set(selected);
  const anyBox = h('input', { type: 'checkbox', value: '*', checked: chosen.has('*') });
  const patterns = h('input', {
    name: 'patterns',
    placeholder: 'message.*, companion.*',
    value: selected.filter((e) => e !== '*' && e.includes('*')).join(', '),
  });
  catalogPromise.then(
    (types) => {
      const known = new Set(types.map((t) => t.type));
      /** @type {Map<string, Schemas['EventType'][]>} */
      const byCategory = new Map();
      for (const t of types) byCategory.set(t.category, [...(byCategory.get(t.category) ?? []), t]);
      replace(
        container,
        [...byCategory].map(([category, list]) =>
          h(
            'fieldset',
            { class: 'check-group' },
            h('legend', {}, category),
            list.map((t) => {
              const box = h('input', { type: 'checkbox', value: t.type, checked: chosen.has(t.type) });
              boxes.push(box);
              return h('label', { class: 'check', title: t.description }, box, t.type);
            }),
          ),
        ),
      );
      // Exact types the catalog does not know (kept on edit) go to the patterns field so nothing is lost.
      const unknown = selected.filter((e) => e !== '*' && !e.includes('*') && !known.has(e));
      if (unknown.length) patterns.value = [patterns.value, ...unknown].filter(Boolean).join(', ');
    },
    (err) => replace(container, errorBox(err), h('p', { class: 'muted' }, 'Type event names or patterns below.')),
  );
  const el = h(
    'fieldset',
    { class: 'field wide', dataset: { field: 'events' } },
    h('legend', {}, 'Events'),
    h('label', { class: 'check' }, anyBox, 'Every event (*)'),
    container,
    field('Patterns or other types (comma-separated)', patterns, {
      hint: 'Patterns like message.* match every type with that prefix.',
      wide: true,
    }),
    h('small', { class: 'field-error', 'aria-live': 'polite' }),
  );
  const value = () => [
    ...(anyBox.checked ? ['*'] : []),
    ...boxes.filter((b) => b.checked).map((b) => b.value),
    ...splitList(patterns.value),
  ];
  return { el, value };
}

/**
 * The variants field: one `URL weight` per line (weight 1 when left out). Empty → `{ value: undefined }`.
 * @param {string} text
 * @returns {{ value?: Array<{ url: string, weight: number }>, error?: string }}
 */
function parseVariants(text) {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  if (!lines.length) return { value: undefined };
  const value = [];
  for (const line of lines) {
    const [url, weight = '1', ...rest] = line.split(/\s+/);
    if (rest.length || !/^\d+$/.test(weight)) return { error: `“${line}”: expected a URL and a whole-number weight` };
    value.push({ url, weight: Number(weight) });
  }
  return { value };
}

/**
 * @param {Ctx} ctx
 */
export function webhookFormView(ctx) {
  const editing = ctx.params.id;
  const holder = h('div', { class: 'stack' }, h('h1', {}, editing ? 'Edit webhook' : 'New webhook'));
  if (!editing) {
    holder.append(buildForm(ctx, {}));
    return { el: holder };
  }
  const loading = h('p', { class: 'muted' }, 'Loading the webhook…');
  holder.append(loading);
  ctx.api.get(`/api/v1/webhooks/${seg(editing)}`).then(
    (webhook) => loading.replaceWith(buildForm(ctx, /** @type {Schemas['WebhookDetail']} */ (webhook))),
    (err) => loading.replaceWith(errorBox(err)),
  );
  return { el: holder };
}

/**
 * @param {Ctx} ctx
 * @param {Partial<Schemas['WebhookDetail']>} initial empty for a new webhook
 */
function buildForm(ctx, initial) {
  const editing = Boolean(initial.id);
  const url = h('input', {
    name: 'url',
    type: 'url',
    required: true,
    placeholder: 'https://example.com/hooks/humana',
    value: initial.url ?? '',
  });
  const description = h('input', { name: 'description', maxLength: 500, value: initial.description ?? '' });
  const events = eventPicker(ctx.catalog(), initial.events ?? []);
  const secret = h('input', { name: 'secret', type: 'text', autocomplete: 'off', placeholder: 'leave empty to generate whsec_…' });
  const headers = h('textarea', {
    name: 'headers',
    rows: 3,
    class: 'mono',
    placeholder: '{ "X-Team": "billing" }',
    value: initial.headers && Object.keys(initial.headers).length ? JSON.stringify(initial.headers, null, 2) : '',
  });
  const filters = h('textarea', {
    name: 'filters',
    rows: 3,
    class: 'mono',
    placeholder: '{ "companionId": ["comp-123"], "userId": ["user-*"] }',
    value: initial.filters && Object.keys(initial.filters).length ? JSON.stringify(initial.filters, null, 2) : '',
  });
  const retry = RETRY_FIELDS.map(([name, , min, max, step, dflt]) =>
    h('input', { name, type: 'number', min, max, step, required: true, value: initial.retry?.[name] ?? dflt }),
  );
  const timeoutMs = h('input', { name: 'timeoutMs', type: 'number', min: 1, step: 1, value: initial.timeoutMs ?? 10000 });
  const enabled = h('input', { name: 'enabled', type: 'checkbox', checked: initial.enabled !== false });
  const format = h(
    'select',
    { name: 'format' },
    FORMATS.map((f) => h('option', { value: f, selected: f === (initial.format ?? 'standard') }, f)),
  );
  const routingKey = h('input', {
    name: 'routingKey',
    class: 'mono',
    autocomplete: 'off',
    placeholder: 'PagerDuty integration key',
    value: initial.formatOptions?.routingKey ?? '',
  });
  const severity = h(
    'select',
    { name: 'severity' },
    h('option', { value: '' }, 'from the event'),
    SEVERITIES.map((v) => h('option', { value: v, selected: v === initial.formatOptions?.severity }, v)),
  );
  const source = h('input', { name: 'source', placeholder: 'humana-events/<organization>', value: initial.formatOptions?.source ?? '' });
  const perSecond = h('input', {
    name: 'rateLimit',
    type: 'number',
    min: 1,
    max: 10000,
    step: 'any',
    placeholder: 'unlimited',
    value: initial.rateLimit?.perSecond ?? '',
  });
  const orderingKey = h('input', {
    name: 'ordering',
    class: 'mono',
    placeholder: 'companionId, user.id or *',
    value: initial.ordering?.key ?? '',
  });
  const failureThreshold = h('input', {
    name: 'failureThreshold',
    type: 'number',
    min: 1,
    max: 1000,
    step: 1,
    value: initial.circuitBreaker?.failureThreshold ?? 10,
  });
  const probeIntervalMs = h('input', {
    name: 'probeIntervalMs',
    type: 'number',
    min: 100,
    max: 86400000,
    step: 1,
    value: initial.circuitBreaker?.probeIntervalMs ?? 30000,
  });
  const variants = h('textarea', {
    name: 'variants',
    rows: 2,
    class: 'mono',
    placeholder: 'https://a.example.com/hook 90\nhttps://b.example.com/hook 10',
    value: (initial.variants ?? []).map((v) => `${v.url} ${v.weight}`).join('\n'),
  });
  const message = h('div', { 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: 'primary' }, editing ? 'Save changes' : 'Create webhook');

  const form = h(
    'form',
    { class: 'card form-grid', novalidate: true },
    field('Endpoint URL', url, {
      wide: true,
      hint: 'http(s) URL that receives a signed POST per event, or a broker: amqp://, nats://, mqtt://, redis://…?stream=, smtp://.',
    }),
    field('Description', description, { wide: true }),
    h(
      'fieldset',
      { class: 'wide field', dataset: { field: 'format' } },
      h('legend', {}, 'Body'),
      h(
        'div',
        { class: 'row' },
        field('Body format', format, { hint: 'slack and pagerduty post a message linking to the event in this console.' }),
        field('PagerDuty routing key', routingKey, { hint: 'Required with pagerduty.' }),
        field('PagerDuty severity', severity),
        field('PagerDuty source', source),
      ),
      h('small', { class: 'field-error' }),
    ),
    events.el,
    editing ? null : field('Secret', secret, { hint: 'Optional. Shown once after creation when generated.' }),
    field('Timeout (ms)', timeoutMs),
    h(
      'div',
      { class: 'field', dataset: { field: 'enabled' } },
      h('label', { class: 'check' }, enabled, 'Enabled'),
      h('small', { class: 'field-error' }),
    ),
    h(
      'fieldset',
      { class: 'wide field', dataset: { field: 'retry' } },
      h('legend', {}, 'Retries'),
      h(
        'div',
        { class: 'row' },
        RETRY_FIELDS.map(([, label, min, max], i) => field(label, retry[i], { hint: `${min}–${max}` })),
      ),
      h('small', { class: 'hint' }, 'Attempt n ≥ 2 waits min(multiplier^(n−1), max delay) seconds.'),
      h('small', { class: 'field-error' }),
    ),
    h(
      'fieldset',
      { class: 'wide field', dataset: { field: 'circuitBreaker' } },
      h('legend', {}, 'Delivery engine'),
      h(
        'div',
        { class: 'row' },
        field('Rate limit (deliveries / s)', perSecond, { hint: 'Empty: unlimited.' }),
        field('Ordering key', orderingKey, { hint: 'Dotted data path or *: one delivery at a time per key, in order.' }),
        field('Circuit opens after (failures)', failureThreshold, { hint: 'Consecutive failed attempts.' }),
        field('Probe interval (ms)', probeIntervalMs, { hint: 'While open, one probe per interval.' }),
      ),
      h('small', { class: 'field-error' }),
    ),
    field('A/B variants', variants, {
      wide: true,
      hint: 'One “URL weight” per line; deliveries go to one of them by weight. Empty: the endpoint URL only.',
    }),
    field('Filters (JSON)', filters, {
      wide: true,
      hint: 'Dotted path into the event’s data → a list of values (* wildcards), or an operator: {"gte": 3}, {"lt": 10}, {"not": ["low"]}, {"exists": true}.',
    }),
    field('Custom headers (JSON)', headers, { wide: true }),
    h(
      'div',
      { class: 'actions wide' },
      h('a', { href: editing ? `#/webhooks/${seg(initial.id)}` : '#/webhooks', class: 'button' }, 'Cancel'),
      submit,
    ),
    h('div', { class: 'wide' }, message),
  );

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const problems = [];
    const parsedFilters = parseJsonObject(filters.value);
    const parsedHeaders = parseJsonObject(headers.value);
    if (parsedFilters.error) problems.push({ field: 'filters', message: parsedFilters.error });
    if (parsedHeaders.error) problems.push({ field: 'headers', message: parsedHeaders.error });
    if (!url.value.trim()) problems.push({ field: 'url', message: 'Required' });
    const parsedVariants = parseVariants(variants.value);
    if (parsedVariants.error) problems.push({ field: 'variants', message: parsedVariants.error });
    const eventList = events.value();
    if (!eventList.length) problems.push({ field: 'events', message: 'Choose at least one event type or pattern' });
    showFieldErrors(form, problems);
    if (problems.length) {
      replace(message, h('p', { class: 'error-box', role: 'alert' }, 'Fix the highlighted fields.'));
      return;
    }
    const body = {
      url: url.value.trim(),
      events: eventList,
      description: description.value.trim() || undefined,
      enabled: enabled.checked,
      timeoutMs: timeoutMs.value === '' ? undefined : Number(timeoutMs.value),
      retry: Object.fromEntries(RETRY_FIELDS.map(([name], i) => [name, Number(retry[i].value)])),
      filters: parsedFilters.value ?? (editing ? {} : undefined),
      headers: parsedHeaders.value ?? (editing ? {} : undefined),
      secret: !editing && secret.value.trim() ? secret.value.trim() : undefined,
      format: format.value,
      formatOptions:
        formatOptionsOf({ routingKey: routingKey.value, severity: severity.value, source: source.value }) ?? (editing ? null : undefined),
      circuitBreaker: { failureThreshold: Number(failureThreshold.value), probeIntervalMs: Number(probeIntervalMs.value) },
      // Empty clears the option on an edit (null) and leaves the default on a create.
      rateLimit: perSecond.value === '' ? (editing ? null : undefined) : { perSecond: Number(perSecond.value) },
      ordering: orderingKey.value.trim() ? { key: orderingKey.value.trim() } : editing ? null : undefined,
      variants: parsedVariants.value ?? (editing ? null : undefined),
    };
    submit.disabled = true;
    replace(message);
    try {
      if (initial.id) {
        await ctx.api.patch(`/api/v1/webhooks/${seg(initial.id)}`, body);
        notify('Webhook saved', 'success');
        ctx.navigate(`#/webhooks/${seg(initial.id)}`);
        return;
      }
      form.replaceWith(created(/** @type {Schemas['CreatedWebhook']} */ (await ctx.api.post('/api/v1/webhooks', body))));
    } catch (err) {
      showFieldErrors(form, err instanceof ApiError ? err.details : []);
      replace(message, errorBox(err));
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

/** @param {Schemas['CreatedWebhook']} webhook */
function created(webhook) {
  return h(
    'section',
    { class: 'card' },
    h('h2', {}, 'Webhook created'),
    h('p', {}, 'Deliveries to ', h('code', {}, webhook.url), ' start with the next matching event.'),
    h('p', { class: 'warning' }, 'Copy the signing secret now: it is shown only this once (later: “Secret” on the webhook).'),
    secretField('Signing secret', webhook.secret),
    h(
      'div',
      { class: 'actions' },
      h('a', { href: '#/webhooks', class: 'button' }, 'Back to webhooks'),
      h('a', { href: `#/webhooks/${seg(webhook.id)}`, class: 'button primary' }, 'Open webhook'),
    ),
  );
}
