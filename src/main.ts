import { startApp } from './bootstrap.js';

/** A graceful stop that waits longer than this is cut short (a BullMQ worker can hang on a connection left reconnecting). */
const SHUTDOWN_GRACE_MS = 15_000;

startApp().then(
  (running) => {
    const stop = () => {
      setTimeout(() => {
        console.error(`humana-events: graceful shutdown took over ${SHUTDOWN_GRACE_MS} ms, exiting`);
        process.exit(1);
      }, SHUTDOWN_GRACE_MS).unref();
      running.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  },
  (err: Error) => {
    console.error(`humana-events: ${err.message}`);
    process.exit(1);
  },
);
