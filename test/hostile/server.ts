/**
 * The hostile-input suite's only link to the shared test helpers (repoint these imports when they move).
 */
export { createOrg, startTestApp, type TestApp, type TestOrg } from '../support/launcher.js';
