// The organization's webhooks: list, enable/disable, test, secret, delete.
import { seg } from '../lib/api.js';
import { h } from '../lib/dom.js';
import { formatDuration, truncate } from '../lib/format.js';
import { toQuery } from '../lib/query.js';
import { badge, confirmDialog, dataTable, infoDialog, notify, secretField, timeCell, withBusy } from '../ui/components.js';
import { pagedList } from '../ui/paged-list.js';

/** @typedef {import('../lib/context.js').Ctx} Ctx */
/** @typedef {import('../lib/api.js').Schemas} Schemas */

/**
 * Shared with the webhook page: the actions every webhook has.
 * @param {Ctx} ctx
 * @param {Schemas['WebhookView']} webhook
 * @param {{ onChange: () => void, onDelete: () => void }} handlers
 */
export function webhookActions(ctx, webhook, handlers) {
  const { onChange, onDelete } = handlers;
  const path = `/api/v1/webhooks/${seg(webhook.id)}`;

  const test = h('button', { type: 'button', class: 'small' }, 'Send test');
  test.addEventListener('click', async () => {
    const r = await withBusy(test, async () => /** @type {Schemas['TestResult']} */ (await ctx.api.post(`${path}/test`)));
    if (!r || r === true) return;
    infoDialog(`Test delivery to ${truncate(webhook.url, 60)}`, [
      h(
        'p',
        {},
        badge(r.success ? 'success' : 'failed'),
        ' ',
        r.statusCode ? `HTTP ${r.statusCode}` : 'no HTTP answer',
        ' in ',
        formatDuration(r.duration),
      ),
      r.error ? h('p', { class: 'error-box' }, r.error) : null,
      h(
        'p',
        {},
        'Recorded as delivery ',
        h('a', { href: `#/webhooks/${seg(webhook.id)}/deliveries/${seg(r.deliveryId)}`, class: 'mono' }, r.deliveryId),
      ),
    ]);
  });

  const toggle = h('button', { type: 'button', class: 'small' }, webhook.enabled ? 'Disable' : 'Enable');
  toggle.addEventListener('click', async () => {
    const enabled = !webhook.enabled;
    const done = await withBusy(toggle, () => ctx.api.patch(path, { enabled }));
    if (!done) return;
    notify(`Webhook ${enabled ? 'enabled' : 'disabled'}`, 'success');
    onChange();
  });

  const secret = h('button', { type: 'button', class: 'small' }, 'Secret');
  secret.addEventListener('click', async () => {
    const r = await withBusy(secret, async () => /** @type {Schemas['WebhookSecret']} */ (await ctx.api.get(`${path}/secret`)));
    if (!r || r === true) return;
    infoDialog('Webhook signing secret', [
      secretField('Signing secret', r.secret),
      r.previousSecretExpiresAt
        ? h('p', {}, 'The previous secret is still accepted until ', timeCell(r.previousSecretExpiresAt), '.')
        : null,
    ]);
  });

  const rotate = h('button', { type: 'button', class: 'small' }, 'Rotate secret');
  rotate.addEventListener('click', async () => {
    const ok = await confirmDialog({
      title: 'Rotate signing secret',
      message:
        'Generate a new signing secret? Deliveries carry signatures with both secrets until the previous one expires (24 h), so receivers can switch over.',
      confirmLabel: 'Rotate',
    });
    if (!ok) return;
    const r = await withBusy(rotate, async () => /** @type {Schemas['RotatedSecret']} */ (await ctx.api.post(`${path}/secret/rotate`)));
    if (!r || r === true) return;
    infoDialog('New signing secret', [
      h('p', { class: 'warning' }, 'Give the new secret to the receiver now.'),
      secretField('New signing secret', r.secret),
      h('p', {}, 'The previous secret is still accepted until ', timeCell(r.previousSecretExpiresAt), '.'),
    ]);
  });

  const pause = h('button', { type: 'button', class: 'small' }, webhook.paused ? 'Resume' : 'Pause');
  pause.addEventListener('click', async () => {
    const done = await withBusy(pause, () => ctx.api.post(`${path}/${webhook.paused ? 'resume' : 'pause'}`));
    if (!done) return;
    notify(`Webhook ${webhook.paused ? 'resumed' : 'paused'}`, 'success');
    onChange();
  });

  const remove = h('button', { type: 'button', class: 'small danger' }, 'Delete');
  remove.addEventListener('click', async () => {
    const ok = await confirmDialog({
      title: 'Delete webhook',
      message: `Delete the webhook to ${webhook.url}? Pending deliveries to it stop.`,
      confirmLabel: 'Delete',
      danger: true,
    });
    if (!ok) return;
    const done = await withBusy(remove, () => ctx.api.delete(path));
    if (!done) return;
    notify('Webhook deleted', 'success');
    onDelete();
  });
  return [test, toggle, pause, secret, rotate, remove];
}

/** @param {string[]} events */
export const eventChips = (events) => events.map((e) => h('span', { class: 'chip' }, e));

/**
 * @param {Ctx} ctx
 */
export function webhooksView(ctx) {
  const list = pagedList({
    label: 'webhooks',
    emptyText: 'No webhooks yet. Create one to receive events over HTTP.',
    fetchPage: async (cursor) => {
      const r = /** @type {Schemas['WebhookList']} */ (await ctx.api.get(`/api/v1/webhooks${toQuery({ cursor })}`));
      return { items: r.webhooks, nextCursor: r.nextCursor };
    },
    render: (webhooks) =>
      dataTable(
        [
          {
            label: 'Endpoint',
            render: (w) => [
              h('a', { href: `#/webhooks/${seg(w.id)}`, class: 'mono' }, truncate(w.url, 56)),
              h('span', { class: 'chip' }, w.transport),
              w.description ? h('div', { class: 'muted' }, truncate(w.description, 90)) : null,
            ],
          },
          { label: 'Events', render: (w) => eventChips(w.events) },
          {
            label: 'Status',
            render: (w) => [
              badge(w.enabled ? 'enabled' : 'disabled'),
              w.paused ? badge('paused') : null,
              w.health.state !== 'healthy' ? badge(w.health.state.replace('_', ' '), 'bad') : null,
            ],
          },
          { label: 'Created', render: (w) => timeCell(w.createdAt) },
          {
            label: 'Actions',
            class: 'actions-cell',
            render: (w) => [
              h('a', { href: `#/webhooks/${seg(w.id)}`, class: 'button small' }, 'Deliveries'),
              webhookActions(ctx, w, { onChange: list.reload, onDelete: list.reload }),
            ],
          },
        ],
        webhooks,
        'Webhooks',
      ),
  });
  list.reload();
  return {
    el: h(
      'div',
      { class: 'stack' },
      h(
        'div',
        { class: 'page-head' },
        h('h1', {}, 'Webhooks'),
        h(
          'div',
          { class: 'actions' },
          h('button', { type: 'button', onclick: () => list.reload() }, 'Refresh'),
          h('a', { href: '#/webhooks/new', class: 'button primary' }, 'New webhook'),
        ),
      ),
      h('section', { class: 'card' }, list.el),
    ),
  };
}
