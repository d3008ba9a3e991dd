// Console entry: session, hash router, top bar.
import { createApi } from './lib/api.js';
import { h, replace } from './lib/dom.js';
import { maskSecret } from './lib/format.js';
import { clearSession, isSignedIn, loadSession, saveSession } from './lib/session.js';
import { dlqView } from './views/dlq.js';
import { deliveryView } from './views/delivery.js';
import { historyView } from './views/history.js';
import { liveView } from './views/live.js';
import { metricsView } from './views/metrics.js';
import { organizationsView } from './views/organizations.js';
import { signInView } from './views/signin.js';
import { webhookFormView } from './views/webhook-form.js';
import { webhookView } from './views/webhook.js';
import { webhooksView } from './views/webhooks.js';
import { needsKeyView } from './views/needs-key.js';
import { auditLogView } from './views/audit-log.js';
import { eventTypesView, eventTypeView } from './views/event-types.js';
import { eventView } from './views/event.js';

/** `needs`: 'key' (an organization's API key), 'admin' (the admin token), or nothing. */
const ROUTES = [
  { path: /^\/signin$/, view: signInView, public: true },
  { path: /^\/webhooks$/, view: webhooksView, nav: 'webhooks', needs: 'key' },
  { path: /^\/webhooks\/new$/, view: webhookFormView, nav: 'webhooks', needs: 'key' },
  { path: /^\/webhooks\/([^/]+)\/edit$/, view: webhookFormView, nav: 'webhooks', needs: 'key', params: ['id'] },
  { path: /^\/webhooks\/([^/]+)$/, view: webhookView, nav: 'webhooks', needs: 'key', params: ['id'] },
  { path: /^\/webhooks\/([^/]+)\/deliveries\/([^/]+)$/, view: deliveryView, nav: 'webhooks', needs: 'key', params: ['id', 'deliveryId'] },
  { path: /^\/dlq$/, view: dlqView, nav: 'dlq', needs: 'key' },
  { path: /^\/live$/, view: liveView, nav: 'live', needs: 'key' },
  { path: /^\/history$/, view: historyView, nav: 'history', needs: 'key' },
  { path: /^\/events\/([^/]+)$/, view: eventView, nav: 'history', needs: 'key', params: ['id'] },
  { path: /^\/event-types$/, view: eventTypesView, nav: 'event-types' },
  { path: /^\/event-types\/([^/]+)$/, view: eventTypeView, nav: 'event-types', params: ['name'] },
  { path: /^\/audit-log$/, view: auditLogView, nav: 'audit-log', needs: 'key' },
  { path: /^\/metrics$/, view: metricsView, nav: 'metrics' },
  { path: /^\/organizations$/, view: organizationsView, nav: 'organizations', needs: 'admin' },
];

const NAV = [
  { id: 'webhooks', label: 'Webhooks', href: '#/webhooks' },
  { id: 'dlq', label: 'Dead letters', href: '#/dlq' },
  { id: 'live', label: 'Live events', href: '#/live' },
  { id: 'history', label: 'History', href: '#/history' },
  { id: 'event-types', label: 'Event types', href: '#/event-types' },
  { id: 'metrics', label: 'Metrics', href: '#/metrics' },
  { id: 'audit-log', label: 'Audit log', href: '#/audit-log' },
  { id: 'organizations', label: 'Organizations', href: '#/organizations', admin: true },
];

let session = loadSession();
/** @type {import('./lib/context.js').View | null} */
let current = null;
/** @type {Promise<import('./lib/api.js').Schemas['EventType'][]> | null} */
let catalogPromise = null;

const api = createApi({ token: () => session.apiKey });

/** @param {Partial<import('./lib/session.js').Session>} next */
function setSession(next) {
  if ('apiKey' in next && next.apiKey !== session.apiKey) catalogPromise = null;
  session = /** @type {import('./lib/session.js').Session} */ (
    Object.fromEntries(Object.entries({ ...session, ...next }).filter(([, v]) => v !== undefined))
  );
  saveSession(session);
  renderChrome();
}

function signOut() {
  clearSession();
  session = {};
  location.hash = '#/signin';
  renderChrome();
}

/** The event catalog (`GET /api/v1/event-types`), fetched once per page load; retried after a failure. */
function catalog() {
  // With an API key the catalog includes the organization's own types.
  catalogPromise ??= api.get('/api/v1/event-types', session.apiKey ? {} : { token: '' }).then(
    (body) => /** @type {import('./lib/api.js').Schemas['EventTypeList']} */ (body).eventTypes,
    (err) => {
      catalogPromise = null;
      throw err;
    },
  );
  return catalogPromise;
}

function defaultPath() {
  if (!isSignedIn(session)) return '/signin';
  return session.apiKey ? '/webhooks' : '/organizations';
}

/** @param {string} [activeNav] */
function renderChrome(activeNav) {
  const nav = /** @type {HTMLElement} */ (document.getElementById('nav'));
  const who = /** @type {HTMLElement} */ (document.getElementById('who'));
  const signedIn = isSignedIn(session);
  replace(
    nav,
    signedIn
      ? [
          NAV.filter((item) => !item.admin || session.adminToken).map((item) =>
            h('a', { href: item.href, 'aria-current': item.id === activeNav ? 'page' : false }, item.label),
          ),
          h(
            'a',
            { href: '/admin/queues', target: '_blank', rel: 'noopener noreferrer', title: 'Bull Board: the delivery queues (admin token)' },
            'Queues ↗',
            h('span', { class: 'visually-hidden' }, ' (opens in a new tab)'),
          ),
        ]
      : [],
  );
  replace(
    who,
    signedIn
      ? [
          session.adminToken ? h('span', { class: 'badge badge-warn', title: 'Signed in with the admin token' }, 'admin') : null,
          session.apiKey
            ? h('span', { class: 'mono key-label', title: 'API key in use' }, session.keyLabel ?? maskSecret(session.apiKey))
            : null,
          h('button', { type: 'button', class: 'small', onclick: signOut }, 'Sign out'),
        ]
      : [],
  );
}

/** @param {string} path */
function matchRoute(path) {
  for (const route of ROUTES) {
    const m = route.path.exec(path);
    if (!m) continue;
    /** @type {Record<string, string>} */
    const params = {};
    (route.params ?? []).forEach((name, i) => {
      try {
        params[name] = decodeURIComponent(m[i + 1]);
      } catch {
        params[name] = m[i + 1];
      }
    });
    return { route, params };
  }
  return null;
}

/** @param {string} hash */
function navigate(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

function render() {
  const [path, queryText = ''] = (location.hash.replace(/^#/, '') || '/').split('?');
  const match = matchRoute(path);
  if (!match || (!match.route.public && !isSignedIn(session))) {
    const target = `#${defaultPath()}`;
    if (location.hash !== target) {
      location.replace(target);
      return;
    }
  }
  const resolved = match ?? matchRoute(defaultPath());
  if (!resolved) return;
  const { route, params } = resolved;
  // A dialog belongs to the page that opened it: a route change (Back, a link, a redirect) closes it.
  for (const dialog of document.querySelectorAll('dialog')) if (dialog.open) dialog.close();
  current?.dispose?.();
  /** @type {import('./lib/context.js').Ctx} */
  const ctx = {
    api,
    get session() {
      return session;
    },
    params,
    query: new URLSearchParams(queryText),
    navigate,
    catalog,
    setSession,
    signOut,
    invalidateCatalog: () => (catalogPromise = null),
  };
  const missing = route.needs === 'key' && !session.apiKey ? 'key' : route.needs === 'admin' && !session.adminToken ? 'admin' : null;
  current = missing ? needsKeyView(ctx, missing) : route.view(ctx);
  renderChrome(route.nav);
  const main = /** @type {HTMLElement} */ (document.getElementById('main'));
  replace(main, current.el);
  main.focus({ preventScroll: true });
  window.scrollTo(0, 0);
}

window.addEventListener('hashchange', render);
render();
