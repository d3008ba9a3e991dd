// The one file of this folder that imports shared test helpers (their folder may be renamed).
export { createOrg, databases, startTestApp, waitFor, type DbKind, type TestApp, type TestOrg } from '../helpers/app.js';
export { Receiver, seedVerifyWebhook, type Received } from '../webhooks/receiver.js';
export { SseClient, sseUrl, WsClient, wsUrl } from '../realtime/clients.js';
