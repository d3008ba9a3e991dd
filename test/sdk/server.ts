// The only file of test/sdk that imports the shared test helpers: repoint these lines when they move (test/support/).
export { startTestApp, createOrg, ADMIN_TOKEN, BOOTSTRAP_KEY, type TestApp, type TestOrg } from '../support/launcher.js';
export { waitFor } from '../support/time.js';
export { startPrivateRedis, type PrivateRedis } from '../support/redis.js';
export { Receiver, type Received } from '../support/receiver.js';

import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestApp } from '../support/launcher.js';

/** The repository root (this file runs from dist/test/sdk/). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Tracks the app's TCP connections so a test can cut them server-side (a dropped stream, not a clean close). */
export function connectionKiller(app: TestApp): { killAll(): number } {
  const server = (app.running.app as unknown as { getHttpServer(): Server }).getHttpServer();
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  return {
    killAll() {
      const n = sockets.size;
      for (const s of sockets) s.destroy();
      sockets.clear();
      return n;
    },
  };
}
