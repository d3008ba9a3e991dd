import type { Logger as Pino } from 'pino';
import { startApp, type RunningApp } from './bootstrap.js';
import { ConfigError, loadConfig, type AppConfig } from './config/config.js';
import { lowerCpuPriority } from './common/process-priority.js';
import { StartupError } from './common/startup-wait.js';
import { createPino } from './observability/app-logger.js';

/** A graceful stop that waits longer than this is cut short (a BullMQ worker can hang on a connection left reconnecting). */
const SHUTDOWN_GRACE_MS = 15_000;
/** A stop requested while Nest is still initialising (not interruptible) waits this long for it before exiting. */
const STARTUP_STOP_MS = 5_000;

/** The configuration, read early for the log format and the CPU priority; an invalid one is reported by startApp. */
function earlyConfig(): AppConfig | undefined {
  try {
    return loadConfig();
  } catch {
    return undefined;
  }
}

const config = earlyConfig();
/** The app's own JSON log format from the first line, even when the configuration itself is invalid. */
const log: Pino = createPino(config ?? { logLevel: 'info', serviceName: 'humana-events' }).child({ context: 'Bootstrap' });
if (config?.processNice) lowerCpuPriority(config.processNice);
const starting = new AbortController();
let running: RunningApp | undefined;
let stopping = false;

function exitAfter(work: Promise<unknown>, code: number, graceMs: number): void {
  setTimeout(() => {
    log.error(`humana-events: stopping took over ${graceMs} ms, exiting`);
    process.exit(1);
  }, graceMs).unref();
  work.then(
    () => process.exit(code),
    () => process.exit(1),
  );
}

/** SIGTERM/SIGINT at any stage: while waiting for Redis or the database the wait ends at once. */
function stop(signal: NodeJS.Signals): void {
  if (stopping) return;
  stopping = true;
  if (running) return exitAfter(running.close(), 0, SHUTDOWN_GRACE_MS);
  log.info({ signal }, `${signal} during start-up: stopping`);
  starting.abort(new Error(`${signal} during start-up`));
  setTimeout(() => {
    log.error(`humana-events: start-up did not stop within ${STARTUP_STOP_MS} ms, exiting`);
    process.exit(1);
  }, STARTUP_STOP_MS).unref();
}
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));

startApp(process.env, { signal: starting.signal, onWaiting: (message) => log.warn(message) }).then(
  (app) => {
    running = app;
    if (stopping) exitAfter(app.close(), 0, STARTUP_STOP_MS); // the signal arrived while Nest was initialising
  },
  (err: Error) => {
    if (starting.signal.aborted) process.exit(0);
    if (err instanceof ConfigError || err instanceof StartupError) log.fatal(`humana-events: ${err.message}`);
    else log.fatal({ err }, `humana-events: start-up failed: ${err.message.split('\n')[0]}`);
    process.exit(1);
  },
);
