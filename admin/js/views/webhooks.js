// The organization's webhooks: list, enable/disable, test, secret, delete.
import { seg } from '../lib/api.js';
import { h } from '../lib/dom.js';
import { formatDuration, truncate } from '../lib/format.js';
import { toQuery } from '../lib/query.js';
import { badge, confirmDialog, dataTable, infoDialog, kvList, notify, secretField, timeCell, withBusy } from '../ui/components.js';
import { pagedList } from '../ui/paged-list.js';

/** Shared with the webhook page: the actions every webhook has. */
export function webhookActions(ctx, webhook, { onChange, onDelete }) {
  const path = `/api/v1/webhooks/${seg(webhook.id)}`;

  const test = h('button', { type: 'button', class: 'small' }, 'Send test');
  test.addEventListener('click', async () => {
    const r = await withBusy(test, () => ctx.api.post(`${path}/test`));
    if (!r) return;
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
      r.error ? h('p', { class: 'error-box' }, String(r.error)) : null,
      r.deliveryId
        ? h(
            'p',
            {},
            'Recorded as delivery ',
            h('a', { href: `#/webhooks/${seg(webhook.id)}/deliveries/${seg(r.deliveryId)}`, class: 'mono' }, r.deliveryId),
          )
        : null,
    ]);
  });

  const toggle = h('button', { type: 'button', class: 'small' }, webhook.enabled === false ? 'Enable' : 'Disable');
  toggle.addEventListener('click', async () => {
    const enabled = webhook.enabled === false;
    const done = await withBusy(toggle, () => ctx.api.patch(path, { enabled }));
    if (!done) return;
    notify(`Webhook ${enabled ? 'enabled' : 'disabled'}`, 'success');
    onChange();
  });

  const secret = h('button', { type: 'button', class: 'small' }, 'Secret');
  secret.addEventListener('click', async () => {
    const r = await withBusy(secret, () => ctx.api.get(`${path}/secret`));
    if (!r) return;
    const values =
      typeof r.secret === 'string' ? [['Signing secret', r.secret]] : Object.entries(r).filter(([, v]) => typeof v === 'string');
    infoDialog('Webhook signing secret', values.length ? values.map(([label, value]) => secretField(label, value)) : kvList(r));
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
    const r = await withBusy(rotate, () => ctx.api.post(`${path}/secret/rotate`));
    if (!r) return;
    infoDialog('New signing secret', [
      h('p', { class: 'warning' }, 'Give the new secret to the receiver now.'),
      secretField('New signing secret', r.secret),
      r.previousSecretExpiresAt
        ? h('p', {}, 'The previous secret is still accepted until ', timeCell(r.previousSecretExpiresAt), '.')
        : null,
    ]);
  });

  const pause = webhook.paused === undefined ? null : h('button', { type: 'button', class: 'small' }, webhook.paused ? 'Resume' : 'Pause');
  pause?.addEventListener('click', async () => {
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

export const eventChips = (events) => (Array.isArray(events) ? events.map((e) => h('span', { class: 'chip' }, e)) : '—');

export function webhooksView(ctx) {
  const list = pagedList({
    label: 'webhooks',
    emptyText: 'No webhooks yet. Create one to receive events over HTTP.',
    fetchPage: async (cursor) => {
      const r = await ctx.api.get(`/api/v1/webhooks${toQuery({ cursor })}`);
      return { items: r.webhooks ?? [], nextCursor: r.nextCursor };
    },
    render: (webhooks) =>
      dataTable(
        [
          {
            label: 'Endpoint',
            render: (w) => [
              h('a', { href: `#/webhooks/${seg(w.id)}`, class: 'mono' }, truncate(w.url, 56)),
              w.transport ? h('span', { class: 'chip' }, String(w.transport)) : null,
              w.description ? h('div', { class: 'muted' }, truncate(w.description, 90)) : null,
            ],
          },
          { label: 'Events', render: (w) => eventChips(w.events) },
          {
            label: 'Status',
            render: (w) => [
              badge(w.enabled === false ? 'disabled' : 'enabled'),
              w.paused ? badge('paused') : null,
              w.health?.state && w.health.state !== 'healthy' ? badge(w.health.state.replace('_', ' '), 'bad') : null,
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
