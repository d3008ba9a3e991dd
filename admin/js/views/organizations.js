// Admin token only: organizations, their limits, and API keys (create, shown once; revoke).
import { ApiError, seg } from '../lib/api.js';
import { h, replace } from '../lib/dom.js';
import { maskSecret } from '../lib/format.js';
import {
  asyncRegion,
  confirmDialog,
  dataTable,
  empty,
  errorBox,
  field,
  infoDialog,
  notify,
  section,
  secretField,
  showFieldErrors,
  timeCell,
  withBusy,
} from '../ui/components.js';

/** @typedef {import('../lib/context.js').Ctx} Ctx */
/** @typedef {import('../lib/api.js').Schemas} Schemas */

const SCOPES = ['events:write', 'events:read', 'streams:read', 'webhooks:read', 'webhooks:write', 'dlq:manage', 'audit:read'];
const LIMITS = [
  ['eventsPerMinute', 'Events per minute'],
  ['eventsPerMonth', 'Events per month'],
  ['maxConnections', 'Max stream connections'],
];

/**
 * @param {Ctx} ctx
 */
export function organizationsView(ctx) {
  /**
   * @param {string} method
   * @param {string} path
   * @param {unknown} [body]
   */
  const admin = (method, path, body) => ctx.api.request(method, path, { token: ctx.session.adminToken, body });
  const list = asyncRegion('organizations');
  const sessionKeys = h('div');
  /** @type {Schemas['Organization'][]} */
  let organizations = [];

  async function load() {
    try {
      organizations = /** @type {Schemas['OrganizationList']} */ (await admin('GET', '/api/v1/admin/organizations')).organizations;
      list.show(organizations.length ? orgTable() : empty('No organizations yet.'));
    } catch (err) {
      list.fail(err);
    }
  }

  function orgTable() {
    return dataTable(
      [
        { label: 'Name', render: (o) => o.name },
        { label: 'Id', render: (o) => h('code', {}, o.id) },
        { label: 'Created', render: (o) => timeCell(o.createdAt) },
        {
          label: 'Limits',
          render: (o) =>
            o.limits && Object.keys(o.limits).length
              ? Object.entries(o.limits).map(([k, v]) => h('span', { class: 'chip' }, `${k}: ${v}`))
              : h('span', { class: 'muted' }, 'none'),
        },
        {
          label: 'Actions',
          class: 'actions-cell',
          render: (o) => [
            h('button', { type: 'button', class: 'small primary', onclick: () => newKeyDialog(o) }, 'New API key'),
            h('button', { type: 'button', class: 'small', onclick: () => limitsDialog(o) }, 'Limits'),
          ],
        },
      ],
      organizations,
      'Organizations',
    );
  }

  function renderSessionKeys() {
    const keys = ctx.session.createdKeys ?? [];
    replace(
      sessionKeys,
      keys.length
        ? dataTable(
            [
              { label: 'Organization', render: (k) => h('code', {}, k.organizationId) },
              { label: 'Name', render: (k) => k.name || '—' },
              { label: 'Key id', render: (k) => h('code', {}, k.id) },
              {
                label: '',
                class: 'actions-cell',
                render: (k) =>
                  h(
                    'button',
                    {
                      type: 'button',
                      class: 'small danger',
                      onclick: (/** @type {MouseEvent} */ e) =>
                        revoke(/** @type {HTMLButtonElement} */ (e.currentTarget), k.organizationId, k.id),
                    },
                    'Revoke',
                  ),
              },
            ],
            keys,
            'API keys created in this tab',
          )
        : empty('Keys you create here are listed for quick revocation (ids only, never the keys).'),
    );
  }

  /**
   * @param {HTMLButtonElement} button
   * @param {string} organizationId
   * @param {string} keyId
   */
  async function revoke(button, organizationId, keyId) {
    const ok = await confirmDialog({
      title: 'Revoke API key',
      message: `Revoke key ${keyId} of ${organizationId}? Clients using it get 401 within seconds.`,
      confirmLabel: 'Revoke',
      danger: true,
    });
    if (!ok) return false;
    const done = await withBusy(button, () => admin('DELETE', `/api/v1/admin/organizations/${seg(organizationId)}/api-keys/${seg(keyId)}`));
    if (!done) return false;
    ctx.setSession({ createdKeys: (ctx.session.createdKeys ?? []).filter((k) => k.id !== keyId) });
    renderSessionKeys();
    notify(`Key ${keyId} revoked`, 'success');
    return true;
  }

  /** @param {Schemas['Organization']} org */
  function newKeyDialog(org) {
    const name = h('input', { name: 'name', maxLength: 200, placeholder: 'e.g. backend' });
    const boxes = SCOPES.map((scope) => h('input', { type: 'checkbox', name: 'scopes', value: scope, checked: true }));
    const result = h('div');
    const create = h('button', { type: 'submit', class: 'primary' }, 'Create key');
    const form = h(
      'form',
      { class: 'form-grid' },
      field('Name', name, { wide: true }),
      h(
        'fieldset',
        { class: 'wide field', dataset: { field: 'scopes' } },
        h('legend', {}, 'Scopes'),
        h(
          'div',
          { class: 'checks' },
          boxes.map((box) => h('label', { class: 'check' }, box, box.value)),
        ),
        h('small', { class: 'field-error' }),
      ),
      h('div', { class: 'actions wide' }, create),
    );
    const dialog = infoDialog(`New API key for ${org.name}`, [form, result]);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const scopes = boxes.filter((b) => b.checked).map((b) => b.value);
      const body = { ...(name.value.trim() ? { name: name.value.trim() } : {}), ...(scopes.length < SCOPES.length ? { scopes } : {}) };
      try {
        create.disabled = true;
        const key = /** @type {Schemas['CreatedKey']} */ (await admin('POST', `/api/v1/admin/organizations/${seg(org.id)}/api-keys`, body));
        ctx.setSession({
          createdKeys: [...(ctx.session.createdKeys ?? []), { organizationId: org.id, id: key.id, name: body.name ?? '' }],
        });
        renderSessionKeys();
        form.remove();
        replace(
          result,
          h('p', { class: 'warning' }, 'Copy the key now: it is shown only this once.'),
          secretField(`API key ${key.id}`, key.key),
          h(
            'div',
            { class: 'actions' },
            h(
              'button',
              {
                type: 'button',
                class: 'primary',
                onclick: () => {
                  ctx.setSession({ apiKey: key.key, keyLabel: `${org.name} · ${maskSecret(key.key)}` });
                  dialog.close();
                  ctx.navigate('#/webhooks');
                },
              },
              `Use in console as ${org.name}`,
            ),
          ),
        );
      } catch (err) {
        showFieldErrors(form, err instanceof ApiError ? err.details : []);
        replace(result, errorBox(err));
      } finally {
        create.disabled = false;
      }
    });
  }

  /** @param {Schemas['Organization']} org */
  function limitsDialog(org) {
    const inputs = LIMITS.map(([key]) =>
      h('input', { type: 'number', name: key, min: 1, step: 1, value: org.limits?.[key] ?? '', placeholder: 'unlimited' }),
    );
    const result = h('div');
    const save = h('button', { type: 'submit', class: 'primary' }, 'Save limits');
    const form = h(
      'form',
      { class: 'form-grid' },
      LIMITS.map(([, label], i) => field(label, inputs[i])),
      h('p', { class: 'muted wide' }, 'Empty means unlimited.'),
      h('div', { class: 'actions wide' }, save),
      result,
    );
    const dialog = infoDialog(`Limits of ${org.name}`, form);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      /** @type {Record<string, number>} */
      const limits = {};
      for (const input of inputs) if (input.value !== '') limits[input.name] = Number(input.value);
      try {
        save.disabled = true;
        await admin('PATCH', `/api/v1/admin/organizations/${seg(org.id)}/limits`, limits);
        notify(`Limits of ${org.name} saved`, 'success');
        dialog.close();
        load();
      } catch (err) {
        showFieldErrors(form, err instanceof ApiError ? err.details : []);
        replace(result, errorBox(err));
      } finally {
        save.disabled = false;
      }
    });
  }

  const orgName = h('input', { name: 'name', required: true, maxLength: 200, placeholder: 'Acme Inc.' });
  const createForm = h(
    'form',
    { class: 'inline-form' },
    field('New organization', orgName),
    h('button', { type: 'submit', class: 'primary' }, 'Create'),
  );
  createForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const button = /** @type {HTMLButtonElement} */ (createForm.querySelector('button'));
    const created = await withBusy(
      button,
      async () =>
        /** @type {Schemas['CreatedOrganization']} */ (await admin('POST', '/api/v1/admin/organizations', { name: orgName.value.trim() })),
    );
    if (!created || created === true) return;
    notify(`Organization ${created.name} (${created.id}) created`, 'success');
    orgName.value = '';
    load();
  });

  const revokeOrg = h('input', { name: 'organizationId', required: true, placeholder: 'org_…', class: 'mono' });
  const revokeKey = h('input', { name: 'keyId', required: true, placeholder: 'key_…', class: 'mono' });
  const revokeForm = h(
    'form',
    { class: 'inline-form' },
    field('Organization id', revokeOrg),
    field('Key id', revokeKey),
    h('button', { type: 'submit', class: 'danger' }, 'Revoke'),
  );
  revokeForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (await revoke(/** @type {HTMLButtonElement} */ (revokeForm.querySelector('button')), revokeOrg.value.trim(), revokeKey.value.trim()))
      revokeForm.reset();
  });

  renderSessionKeys();
  load();
  return {
    el: h(
      'div',
      { class: 'stack' },
      h('h1', {}, 'Organizations'),
      section('All organizations', null, createForm, list.el),
      section('API keys created in this tab', null, sessionKeys),
      section('Revoke a key by id', null, revokeForm),
    ),
  };
}
