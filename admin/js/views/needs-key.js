// Shown instead of a view whose credential is missing from the session.
import { h } from '../lib/dom.js';

/** @typedef {import('../lib/context.js').Ctx} Ctx */

/**
 * @param {Ctx} ctx
 * @param {'key' | 'admin'} missing
 */
export function needsKeyView(ctx, missing) {
  const text =
    missing === 'key'
      ? [
          'This view works on one organization and needs its API key. ',
          ctx.session.adminToken
            ? 'Create a key under Organizations and choose “Use in console”, or sign out and sign in with a key.'
            : 'Sign out and sign in with an API key.',
        ]
      : ['This view needs the admin token (ADMIN_TOKEN). Sign out and sign in with it.'];
  return {
    el: h(
      'section',
      { class: 'card' },
      h('h1', {}, missing === 'key' ? 'An API key is needed' : 'The admin token is needed'),
      h('p', {}, text),
      ctx.session.adminToken && missing === 'key'
        ? h('p', {}, h('a', { href: '#/organizations', class: 'button' }, 'Go to Organizations'))
        : null,
    ),
  };
}
