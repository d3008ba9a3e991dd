// Sign in with an organization's API key or the deployment's admin token (the console finds out which).
import { ApiError, errorSummary } from '../lib/api.js';
import { h, replace } from '../lib/dom.js';
import { maskSecret } from '../lib/format.js';
import { field } from '../ui/components.js';

/** @typedef {import('../lib/context.js').Ctx} Ctx */

/**
 * 'admin' | 'key' | null (refused). Throws for anything that is not a clear yes/no (network, 5xx).
 * @param {import('../lib/api.js').Api} api
 * @param {string} token
 */
async function identify(api, token) {
  try {
    await api.get('/api/v1/admin/organizations', { token });
    return 'admin';
  } catch (err) {
    // 404: no ADMIN_TOKEN configured; 401: not the admin token. Either way it may still be an API key.
    if (!(err instanceof ApiError) || (err.status !== 401 && err.status !== 404)) throw err;
  }
  try {
    await api.get('/api/v1/events/history?limit=1', { token });
    return 'key';
  } catch (err) {
    if (err instanceof ApiError && err.status === 403) return 'key'; // a valid key without events:read
    if (err instanceof ApiError && err.status === 401) return null;
    throw err;
  }
}

/**
 * @param {Ctx} ctx
 */
export function signInView(ctx) {
  const input = h('input', {
    name: 'token',
    type: 'password',
    required: true,
    autocomplete: 'off',
    spellcheck: false,
    placeholder: 'hk_… or the admin token',
  });
  const message = h('div', { 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h(
    'form',
    { class: 'signin card', novalidate: true },
    h('h1', {}, 'Sign in'),
    h(
      'p',
      { class: 'muted' },
      'Paste an organization\u2019s API key to manage its webhooks, deliveries, dead letters and streams, ',
      'or the deployment\u2019s admin token (ADMIN_TOKEN) to manage organizations and API keys.',
    ),
    field('API key or admin token', input, {
      hint: 'Kept in this tab only (sessionStorage) and sent as Authorization: Bearer.',
      wide: true,
    }),
    h('div', { class: 'actions' }, submit),
    message,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const token = input.value.trim();
    if (!token) {
      replace(message, h('p', { class: 'error-box', role: 'alert' }, 'Paste a key or token first.'));
      input.focus();
      return;
    }
    submit.disabled = true;
    replace(message, h('p', { class: 'muted' }, 'Checking…'));
    try {
      const kind = await identify(ctx.api, token);
      if (!kind) {
        replace(message, h('p', { class: 'error-box', role: 'alert' }, 'Neither a valid API key nor the admin token (HTTP 401).'));
        return;
      }
      ctx.setSession(kind === 'admin' ? { adminToken: token } : { apiKey: token, keyLabel: maskSecret(token) });
      ctx.navigate(kind === 'admin' ? '#/organizations' : '#/webhooks');
    } catch (err) {
      replace(message, h('p', { class: 'error-box', role: 'alert' }, errorSummary(err)));
    } finally {
      submit.disabled = false;
    }
  });
  return { el: h('div', { class: 'center' }, form) };
}
