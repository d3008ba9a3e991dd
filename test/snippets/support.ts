// The one file of this folder that imports shared test helpers (their folder may be renamed).
export { createOrg, startTestApp, waitFor, type TestApp, type TestOrg } from '../helpers/app.js';
export { Receiver } from '../webhooks/receiver.js';
