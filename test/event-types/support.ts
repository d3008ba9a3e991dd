// The one file of this folder that imports shared test helpers.
export { createOrg, databases, startTestApp, type DbKind, type TestApp, type TestOrg } from '../support/launcher.js';
export { waitFor } from '../support/time.js';
export { Receiver, type Received } from '../support/receiver.js';
export { seedVerifyWebhook } from '../support/seed-verify.js';
export { SseClient, sseUrl, WsClient, wsUrl } from '../realtime/clients.js';
