// Shared UI pieces. All take plain data and build nodes with h(): no markup strings anywhere.
import { errorSummary, ApiError } from '../lib/api.js';
import { append, h, replace, uid } from '../lib/dom.js';
import { formatTime, prettyJson, truncate } from '../lib/format.js';

/**
 * A transient message in the page's live region (errors stay until dismissed).
 * @param {string} message
 * @param {'info' | 'success' | 'error'} [kind]
 */
export function notify(message, kind = 'info') {
  const region = document.getElementById('notices');
  if (!region) return;
  const item = h(
    'div',
    { class: ['notice', `notice-${kind}`], role: kind === 'error' ? 'alert' : 'status' },
    h('span', {}, message),
    h('button', { type: 'button', class: 'icon', 'aria-label': 'Dismiss', onclick: () => item.remove() }, '×'),
  );
  region.append(item);
  if (kind !== 'error') setTimeout(() => item.remove(), 6000);
}

/**
 * A visible error: the API's message, code and status, and each detail (field: message).
 * @param {unknown} err
 */
export function errorBox(err) {
  const details = err instanceof ApiError ? err.details : [];
  return h(
    'div',
    { class: 'error-box', role: 'alert' },
    h('strong', {}, errorSummary(err)),
    details.length
      ? h(
          'ul',
          {},
          details.map((d) => h('li', {}, d.field ? h('code', {}, d.field) : null, d.field ? ': ' : '', d.message)),
        )
      : null,
  );
}

/**
 * Runs an async action from a button: disabled while running, errors reported as a notice.
 * Returns the action's result (`true` when it resolved with nothing, e.g. a 204), or undefined when it failed.
 * @template T
 * @param {HTMLButtonElement} button
 * @param {() => Promise<T>} action
 * @returns {Promise<NonNullable<T> | true | undefined>}
 */
export async function withBusy(button, action) {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return (await action()) ?? true;
  } catch (err) {
    notify(errorSummary(err), 'error');
    return undefined;
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

/**
 * @param {string} title
 * @param {unknown} body
 * @param {unknown} buttons
 */
function openDialog(title, body, buttons) {
  const titleId = uid('dlg');
  const dialog = h(
    'dialog',
    { class: 'dialog', 'aria-labelledby': titleId },
    h('h2', { id: titleId }, title),
    h('div', { class: 'dialog-body' }, body),
    h('div', { class: 'dialog-actions' }, buttons),
  );
  document.body.append(dialog);
  dialog.addEventListener('close', () => dialog.remove());
  dialog.showModal();
  return dialog;
}

/**
 * A modal yes/no question; resolves true only on the confirm button.
 * @param {{ title: string, message: string, confirmLabel?: string, danger?: boolean }} question
 * @returns {Promise<boolean>}
 */
export function confirmDialog({ title, message, confirmLabel = 'Confirm', danger = false }) {
  return new Promise((resolve) => {
    let confirmed = false;
    const dialog = openDialog(title, h('p', {}, message), [
      h('button', { type: 'button', onclick: () => dialog.close() }, 'Cancel'),
      h(
        'button',
        { type: 'button', class: danger ? 'danger' : 'primary', onclick: () => ((confirmed = true), dialog.close()) },
        confirmLabel,
      ),
    ]);
    dialog.addEventListener('close', () => resolve(confirmed));
  });
}

/**
 * A modal showing content (a secret, a result) with a Close button.
 * @param {string} title
 * @param {unknown} body
 */
export function infoDialog(title, body) {
  const dialog = openDialog(title, body, [h('button', { type: 'button', class: 'primary', onclick: () => dialog.close() }, 'Close')]);
  return dialog;
}

/**
 * A secret in a read-only field with a Copy button.
 * @param {string} label
 * @param {string} value
 */
export function secretField(label, value) {
  const id = uid('secret');
  const input = h('input', { id, type: 'text', readOnly: true, value, class: 'mono', spellcheck: false, autocomplete: 'off' });
  return h('div', { class: 'field' }, h('label', { for: id }, label), h('div', { class: 'inline' }, input, copyButton(value)));
}

/** @param {string} text */
export function copyButton(text, label = 'Copy') {
  const button = h('button', { type: 'button', class: 'small' }, label);
  button.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(text);
      notify('Copied to the clipboard', 'success');
    } catch {
      notify('The browser refused clipboard access: select the text and copy it by hand', 'error');
    }
  });
  return button;
}

/**
 * Collapsible pretty-printed JSON.
 * @param {unknown} value
 */
export function jsonBlock(value, summary = 'JSON', open = false) {
  return h('details', { class: 'json', open }, h('summary', {}, summary), h('pre', {}, prettyJson(value)));
}

/** @type {Record<string, string>} */
const BADGE_KINDS = {
  success: 'ok',
  healthy: 'ok',
  ok: 'ok',
  up: 'ok',
  enabled: 'ok',
  true: 'ok',
  connected: 'ok',
  live: 'ok',
  failed: 'bad',
  unhealthy: 'bad',
  down: 'bad',
  error: 'bad',
  disabled: 'muted',
  false: 'bad',
  closed: 'bad',
  retrying: 'warn',
  pending: 'warn',
  degraded: 'warn',
  connecting: 'warn',
  paused: 'muted',
};

/**
 * A colored pill for a status word (success/failed/retrying/healthy/…).
 * @param {string} text
 * @param {string} [kind] ok, bad, warn or muted (default: from the word)
 */
export function badge(text, kind) {
  const word = String(text ?? '—');
  return h('span', { class: ['badge', `badge-${kind ?? BADGE_KINDS[word.toLowerCase()] ?? 'muted'}`] }, word);
}

/**
 * A <time> element: local time shown, ISO in the tooltip.
 * @param {string | null | undefined} iso
 */
export function timeCell(iso) {
  return iso ? h('time', { dateTime: String(iso), title: String(iso) }, formatTime(iso)) : '—';
}

/**
 * A table with a horizontal-scroll wrapper.
 * @template T
 * @param {Array<{ label: string, render: (row: T) => any, class?: string }>} columns
 * @param {T[]} rows
 * @param {string} caption accessible name
 */
export function dataTable(columns, rows, caption) {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      {},
      h('caption', { class: 'visually-hidden' }, caption),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          columns.map((c) => h('th', { scope: 'col', class: c.class }, c.label)),
        ),
      ),
      h(
        'tbody',
        {},
        rows.map((row) =>
          h(
            'tr',
            {},
            columns.map((c) =>
              h(
                'td',
                { class: c.class, dataset: { label: c.label } },
                h('div', { class: c.class === 'actions-cell' ? 'cell-actions' : 'cell' }, c.render(row)),
              ),
            ),
          ),
        ),
      ),
    ),
  );
}

/**
 * Key/value pairs as a definition list; nested objects as JSON.
 * @param {unknown} obj
 */
export function kvList(obj) {
  if (!obj || typeof obj !== 'object') return h('p', { class: 'muted' }, '—');
  return h(
    'dl',
    { class: 'kv' },
    Object.entries(obj).map(([k, v]) => [
      h('dt', {}, k),
      h(
        'dd',
        {},
        v !== null && typeof v === 'object'
          ? Object.values(v).some((x) => x !== null && typeof x === 'object')
            ? jsonBlock(v, 'details')
            : kvInline(v)
          : String(v),
      ),
    ]),
  );
}

/** @param {object} obj */
function kvInline(obj) {
  const entries = Object.entries(obj);
  return entries.length ? entries.map(([k, v]) => h('span', { class: 'chip' }, `${k}: ${v}`)) : '—';
}

/**
 * A labeled form control. `control` gets the generated id unless it has one.
 * @param {string} label
 * @param {HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement} control
 * @param {{ hint?: string | Node, wide?: boolean }} [options]
 */
export function field(label, control, { hint, wide = false } = {}) {
  if (!control.id) control.id = uid();
  const hintId = hint ? uid('hint') : undefined;
  if (hintId) control.setAttribute('aria-describedby', hintId);
  return h(
    'div',
    { class: ['field', wide && 'wide'], dataset: { field: control.name || '' } },
    h('label', { for: control.id }, label),
    control,
    hint ? h('small', { id: hintId, class: 'hint' }, hint) : null,
    h('small', { class: 'field-error', 'aria-live': 'polite' }),
  );
}

/**
 * Shows per-field messages from a 400's details next to the matching control (by name: the full field path,
 * its last part, then its first part); clears old ones. Returns the details no control matched.
 * @param {HTMLFormElement} form
 * @param {import('../lib/api.js').ErrorDetail[]} details
 */
export function showFieldErrors(form, details) {
  for (const slot of form.querySelectorAll('.field-error')) slot.textContent = '';
  for (const control of form.querySelectorAll('[aria-invalid]')) control.removeAttribute('aria-invalid');
  const unmatched = [];
  for (const d of details) {
    const path = (d.field ?? '').split('.');
    const wrapper = [path.join('.'), path[path.length - 1], path[0]]
      .filter(Boolean)
      .map((name) => form.querySelector(`.field[data-field="${CSS.escape(name)}"]`))
      .find(Boolean);
    if (!wrapper) {
      unmatched.push(d);
      continue;
    }
    const slot = wrapper.querySelector(':scope > .field-error');
    if (slot) slot.textContent = [slot.textContent, `${d.field}: ${d.message}`].filter(Boolean).join('; ');
    wrapper.querySelector('input, select, textarea')?.setAttribute('aria-invalid', 'true');
  }
  return unmatched;
}

/**
 * A page section: title, optional actions on the right, content.
 * @param {string} title
 * @param {unknown} actions
 * @param {...unknown} content
 */
export function section(title, actions, ...content) {
  return h(
    'section',
    { class: 'card' },
    h('div', { class: 'card-head' }, h('h2', {}, title), actions ? h('div', { class: 'actions' }, actions) : null),
    content,
  );
}

/**
 * A container that shows a loading line, then content or an error.
 * @param {string} label
 */
export function asyncRegion(label) {
  const el = h('div', { class: 'region', 'aria-live': 'polite', 'aria-busy': 'true' }, h('p', { class: 'muted' }, `Loading ${label}…`));
  return {
    el,
    /** @param {...unknown} content */
    show(...content) {
      el.removeAttribute('aria-busy');
      replace(el, content);
    },
    /** @param {unknown} err */
    fail(err) {
      el.removeAttribute('aria-busy');
      replace(el, errorBox(err));
    },
    /** @param {...unknown} content */
    append(...content) {
      append(el, content);
    },
  };
}

export const empty = (/** @type {string} */ text) => h('p', { class: 'empty' }, text);

/**
 * The fields worth a glance in an event row: ids of who and what, else its first scalar values.
 * @param {unknown} value
 */
export function dataGlance(value) {
  if (!value || typeof value !== 'object') return null;
  const data = /** @type {Record<string, unknown>} */ (value);
  const preferred = ['companionId', 'userId', 'messageId', 'sessionId', 'streamId', 'errorId', 'metric'].filter(
    (k) => data[k] !== undefined,
  );
  const keys = preferred.length
    ? preferred
    : Object.keys(data)
        .filter((k) => k !== 'timestamp' && typeof data[k] !== 'object')
        .slice(0, 3);
  return keys.map((k) => h('span', { class: 'chip' }, `${k}: ${truncate(data[k], 40)}`));
}
