import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Logger, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import express from 'express';
import { AppModule } from './app.module.js';
import { AuthService, type CreatedKey } from './auth/auth.service.js';
import { apiComponentSchemas } from './common/api-schemas.js';
import { hasApi, loadConfig, type AppConfig } from './config/config.js';
import { resolveRedis, waitForRedis } from './config/redis-bootstrap.js';
import {
  BATCH_PUBLISH_PATH,
  bodyParserErrorHandler,
  HttpExceptionFilter,
  JSON_BODY_TYPES,
  requireJsonBodies,
} from './common/http-exception.filter.js';
import { maskUrl } from './common/startup-wait.js';
import { prepareDatabase } from './database/prepare-database.js';
import { AppLogger } from './observability/app-logger.js';

export interface RunningApp {
  config: AppConfig;
  /** The Nest application (an HTTP app unless ROLE=worker). */
  app: INestApplicationContext;
  /** Base URL of the HTTP server (ROLE=api|all), on loopback when it listens on every interface. */
  url?: string;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Aborting it (SIGTERM/SIGINT) ends the wait for Redis or the database at once. */
  signal?: AbortSignal;
  /** Told once per dependency that does not answer at first (before Nest's logger exists). */
  onWaiting?: (message: string) => void;
}

/** The route is `events/evt_:rest` (so /events/stream etc. stay apart); the document names what clients send. */
function eventByIdPath(doc: OpenAPIObject): void {
  const op = doc.paths['/api/v1/events/evt_{rest}'];
  if (!op) return;
  delete doc.paths['/api/v1/events/evt_{rest}'];
  for (const p of op.get?.parameters ?? []) {
    if ('name' in p && p.name === 'rest') Object.assign(p, { name: 'id', description: 'the event id, `evt_…`' });
  }
  doc.paths['/api/v1/events/{id}'] = op;
}

function openApi(app: NestExpressApplication): OpenAPIObject {
  const doc = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Humana Events')
      .setDescription('Webhooks and real-time event streams from one event log')
      .setVersion('1')
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'API key (hk_…)' })
      .build(),
  );
  eventByIdPath(doc);
  doc.components = { ...doc.components, schemas: { ...doc.components?.schemas, ...apiComponentSchemas() } };
  return doc;
}

/**
 * The OpenAPI document without Redis or a database: Nest's preview mode builds the module graph (routes, decorators)
 * without instantiating providers. scripts/generate-api-types.mjs generates the console's and the SDK's types from it.
 */
export async function openApiDocument(env: NodeJS.ProcessEnv = process.env): Promise<OpenAPIObject> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(loadConfig(env)), {
    preview: true,
    logger: false,
    abortOnError: false,
  });
  try {
    return openApi(app);
  } finally {
    await app.close();
  }
}

/** `http://127.0.0.1:3000`, `http://0.0.0.0:3000`, `http://[::1]:3000`: the address the server is bound to. */
function boundUrl(server: Server): string {
  const { address, port } = server.address() as AddressInfo;
  return `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
}

/**
 * A key created on this first start: the key itself only in a banner on stderr (logs never carry credentials), and
 * one JSON log line saying where to find it and how to make more.
 */
function announceFirstRunKey(created: CreatedKey, base: string): void {
  process.stderr.write(
    [
      '',
      '  Humana Events: first start on an empty database, so an organization and an API key were created.',
      `  API key (all scopes, shown only now):  ${created.key}`,
      `  Console:  ${base}/admin   (sign in with the key)`,
      `  API:      ${base}/api/v1   (Authorization: Bearer <key>)`,
      `  Docs:     ${base}/docs`,
      '  More keys: set ADMIN_TOKEN and use the admin API (POST /api/v1/admin/organizations/{id}/api-keys),',
      '  or start with BOOTSTRAP_API_KEY=<a key of your choice>.',
      '',
      '',
    ].join('\n'),
  );
  new Logger('FirstRun').warn({
    msg: `First start on an empty database: created organization ${created.organizationId} and API key ${created.id} (all scopes), printed once on stderr. Console ${base}/admin, API ${base}/api/v1, docs ${base}/docs. More keys: ADMIN_TOKEN + the admin API, or BOOTSTRAP_API_KEY`,
    organizationId: created.organizationId,
    keyId: created.id,
  });
}

/**
 * Everything `npm start` does, reusable by tests: config → Redis → database (migrated once, under a lock) → Nest app
 * → listen. Waiting for Redis and the database is bounded by STARTUP_TIMEOUT_MS and ends at once when `signal` aborts.
 */
export async function startApp(env: NodeJS.ProcessEnv = process.env, opts: StartOptions = {}): Promise<RunningApp> {
  const { signal } = opts;
  const config = loadConfig(env);
  const wait = { timeoutMs: config.startupTimeoutMs, signal, onWaiting: opts.onWaiting };
  const redis = await resolveRedis(config.redisUrl);
  config.redisUrl = redis.url;
  const stopRedis = async () => {
    if (redis.child && redis.child.exitCode === null) {
      redis.child.kill('SIGTERM');
      await new Promise((r) => redis.child!.once('exit', r));
    }
  };
  const onAbort = () => void stopRedis();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await waitForRedis(redis.url, { ...wait, cluster: config.redisCluster !== undefined });
    await prepareDatabase(config.databaseUrl, wait);
    // Nest logs through pino from its first line (no coloured console output); errors are thrown, never process.abort().
    const logger = new AppLogger(config);
    if (!hasApi(config)) {
      const app = await NestFactory.createApplicationContext(AppModule.forRoot(config), { logger, abortOnError: false });
      app.useLogger(app.get(AppLogger));
      app.enableShutdownHooks();
      signal?.removeEventListener('abort', onAbort);
      new Logger('Bootstrap').log(`Humana Events (${config.role}) started — Redis ${maskUrl(redis.url)}${redis.child ? ' (spawned)' : ''}`);
      return { config, app, close: async () => (await app.close(), await stopRedis()) };
    }
    const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
      bodyParser: false,
      logger,
      abortOnError: false,
    });
    app.useLogger(app.get(AppLogger)); // pino JSON lines (src/observability)
    app.disable('x-powered-by');
    app.use(requireJsonBodies);
    // Two explicit limits: the batch publish (up to 1000 events) and every other JSON route. body-parser skips a
    // request another parser already read, so the batch route's own parser wins there.
    app.use(BATCH_PUBLISH_PATH, express.json({ limit: config.maxBatchBodyBytes, type: JSON_BODY_TYPES }));
    app.use(express.json({ limit: config.maxBodyBytes, type: JSON_BODY_TYPES }));
    app.use(bodyParserErrorHandler);
    app.useGlobalFilters(new HttpExceptionFilter());
    app.enableShutdownHooks();
    SwaggerModule.setup('docs', app, openApi(app));
    await app.listen(config.port, config.host);
    signal?.removeEventListener('abort', onAbort);
    const server = app.getHttpServer() as Server;
    const base = boundUrl(server);
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const local = base.startsWith('http://0.0.0.0:') || base.startsWith('http://[::]:') ? url : base;
    new Logger('Bootstrap').log({
      msg: `Humana Events (${config.role}) on ${base} — console ${local}/admin, API ${local}/api/v1, docs ${local}/docs — Redis ${maskUrl(redis.url)}${redis.child ? ' (spawned)' : ''}`,
      url: base,
    });
    const firstRun = app.get(AuthService).firstRunKey;
    if (firstRun) announceFirstRunKey(firstRun, local);
    return { config, app, url: local, close: async () => (await app.close(), await stopRedis()) };
  } catch (err) {
    signal?.removeEventListener('abort', onAbort);
    await stopRedis();
    throw err;
  }
}
