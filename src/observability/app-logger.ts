import { Inject, Injectable, OnModuleInit, Optional, type LoggerService } from '@nestjs/common';
import { trace } from '@opentelemetry/api';
import { pino, type DestinationStream, type Level, type Logger } from 'pino';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { DeliveryOutcomes } from '../delivery/delivery-outcomes.js';
import { EventPublisher } from '../events/publisher.js';
import { Redactor } from './redaction.js';

/** Optional provider: where log lines go (stdout otherwise). */
export const LOG_DESTINATION = Symbol('LOG_DESTINATION');

/** Nest start-up chatter (one line per route and module): debug, so `info` stays readable. */
const QUIET_CONTEXTS = new Set([
  'RoutesResolver',
  'RouterExplorer',
  'InstanceLoader',
  'NestFactory',
  'NestApplication',
  'WebSocketsController',
]);

/** Only what the format needs: main.ts uses it before (or without) a valid configuration. */
export function createPino(
  config: Pick<AppConfig, 'logLevel' | 'serviceName' | 'adminToken' | 'bootstrapApiKey' | 'secretsKey' | 'secretsKeyPrevious'>,
  destination?: DestinationStream,
): Logger {
  const redactor = new Redactor([config.adminToken, config.bootstrapApiKey, config.secretsKey, config.secretsKeyPrevious]);
  return pino(
    {
      level: config.logLevel,
      base: { service: config.serviceName, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (obj) => redactor.value(obj) as Record<string, unknown>,
      },
      hooks: {
        logMethod(args, method) {
          const clean = args.map((a) => (typeof a === 'string' ? redactor.text(a) : a)) as Parameters<typeof method>;
          method.apply(this, clean);
        },
      },
      mixin: () => {
        const span = trace.getActiveSpan()?.spanContext();
        return span ? { traceId: span.traceId, spanId: span.spanId } : {};
      },
    },
    destination,
  );
}

/**
 * Nest's LoggerService on pino: every `new Logger(ctx)` in the code base writes one JSON line with `context`.
 * Structured fields: pass an object as the message (`logger.log({ msg, eventId, deliveryId }, ctx)`).
 */
@Injectable()
export class AppLogger implements LoggerService {
  readonly pino: Logger;

  constructor(@Inject(APP_CONFIG) config: AppConfig, @Optional() @Inject(LOG_DESTINATION) destination?: DestinationStream) {
    this.pino = createPino(config, destination);
  }

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  /** Nest calls `(message, context)` or, for errors, `(message, stack, context)`. */
  private write(level: Level, message: unknown, params: unknown[]): void {
    const rest = [...params];
    const last = rest[rest.length - 1];
    const context = typeof last === 'string' && !last.includes('\n') ? (rest.pop() as string) : undefined;
    if (context && level === 'info' && QUIET_CONTEXTS.has(context)) level = 'debug';
    if (!this.pino.isLevelEnabled(level)) return;
    const fields: Record<string, unknown> = context ? { context } : {};
    const stack = rest.find((p): p is string => typeof p === 'string');
    if (stack) fields.stack = stack;
    if (message instanceof Error) {
      this.pino[level]({ ...fields, err: message }, message.message);
    } else if (message && typeof message === 'object') {
      this.pino[level]({ ...fields, ...(message as Record<string, unknown>) });
    } else {
      this.pino[level](fields, String(message));
    }
  }
}

/**
 * The data path in the logs, with its ids: one debug line per event entering the log (with its trace id) and per
 * delivery attempt recorded; a delivery that failed for good (dead-lettered) is a warning.
 */
@Injectable()
export class DataPathLogger implements OnModuleInit {
  constructor(
    private readonly logger: AppLogger,
    private readonly publisher: EventPublisher,
    private readonly deliveries: DeliveryOutcomes,
  ) {}

  onModuleInit(): void {
    const events = this.logger.pino.child({ context: 'Publisher' });
    this.publisher.onPublished((organizationId, results) => {
      if (!events.isLevelEnabled('debug')) return;
      for (const { event, duplicate } of results) {
        const traceId = event.traceparent?.split('-')[1];
        events.debug({ msg: 'event published', organizationId, eventId: event.id, eventType: event.type, duplicate, traceId });
      }
    });
    const deliveries = this.logger.pino.child({ context: 'Delivery' });
    this.deliveries.onRecord((row) => {
      const level = row.status === 'failed' ? 'warn' : 'debug';
      if (!deliveries.isLevelEnabled(level)) return;
      deliveries[level]({
        msg: `delivery ${row.status}`,
        organizationId: row.organizationId,
        webhookId: row.webhookId,
        deliveryId: row.id,
        eventId: row.eventId,
        eventType: row.eventType,
        attempt: row.attempts,
        statusCode: row.statusCode,
        durationMs: row.durationMs,
        error: row.error ?? undefined,
      });
    });
  }
}
