import { startApp } from './bootstrap.js';

startApp().then(
  (running) => {
    const stop = () => {
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
