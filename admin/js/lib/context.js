// What main.js gives every view (types only: the console type-checks with admin/tsconfig.json).

/**
 * @typedef {object} Ctx
 * @property {import('./api.js').Api} api
 * @property {import('./session.js').Session} session
 * @property {Record<string, string>} params
 * @property {URLSearchParams} query
 * @property {(hash: string) => void} navigate
 * @property {() => Promise<import('./api.js').Schemas['EventType'][]>} catalog the event catalog, fetched once
 * @property {(next: Partial<import('./session.js').Session>) => void} setSession
 * @property {() => void} signOut
 * @property {() => void} invalidateCatalog
 */

/** @typedef {{ el: HTMLElement, dispose?: () => void }} View */

export {};
