// Who the console is signed in as: kept in sessionStorage (gone when the tab closes), never in localStorage.

const STORAGE_KEY = 'humana-console.session';

/**
 * @typedef {{ apiKey?: string, adminToken?: string, keyLabel?: string,
 *   createdKeys?: Array<{ organizationId: string, id: string, name: string }> }} Session
 */

/** @returns {Session} */
export function loadSession(storage = globalThis.sessionStorage) {
  try {
    const parsed = JSON.parse(storage.getItem(STORAGE_KEY) ?? '{}');
    return parsed && typeof parsed === 'object' ? parsed : {};
  } catch {
    return {};
  }
}

/** @param {Session} session */
export function saveSession(session, storage = globalThis.sessionStorage) {
  storage.setItem(STORAGE_KEY, JSON.stringify(session));
}

export function clearSession(storage = globalThis.sessionStorage) {
  storage.removeItem(STORAGE_KEY);
}

export const isSignedIn = (/** @type {Session} */ session) => Boolean(session.apiKey || session.adminToken);
