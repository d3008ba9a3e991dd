// The one file of this folder that imports shared test helpers (their folder may be renamed).
export { createOrg, startTestApp, type TestApp, type TestOrg } from '../support/launcher.js';
export { waitFor } from '../support/time.js';
export { Receiver } from '../support/receiver.js';
