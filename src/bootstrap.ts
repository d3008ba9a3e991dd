import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Logger, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import express from 'express';
import { AppModule } from './app.module.js';
import { hasApi, loadConfig, type AppConfig } from './config/config.js';
import { resolveRedis } from './config/redis-bootstrap.js';
import { bodyParserErrorHandler, HttpExceptionFilter } from './common/http-exception.filter.js';
import { AppLogger } from './observability/app-logger.js';

export interface RunningApp {
  config: AppConfig;
  /** The Nest application (an HTTP app unless ROLE=worker). */
  app: INestApplicationContext;
  /** Base URL of the HTTP server (ROLE=api|all). */
  url?: string;
  close(): Promise<void>;
}

/** Everything `npm start` does, reusable by tests: config → Redis → Nest app → listen. */
export async function startApp(env: NodeJS.ProcessEnv = process.env): Promise<RunningApp> {
  const config = loadConfig(env);
  const redis = await resolveRedis(config.redisUrl);
  config.redisUrl = redis.url;
  const stopRedis = async () => {
    if (redis.child && redis.child.exitCode === null) {
      redis.child.kill('SIGTERM');
      await new Promise((r) => redis.child!.once('exit', r));
    }
  };
  try {
    if (!hasApi(config)) {
      const app = await NestFactory.createApplicationContext(AppModule.forRoot(config), { bufferLogs: true, abortOnError: false });
      app.useLogger(app.get(AppLogger));
      app.enableShutdownHooks();
      return { config, app, close: async () => (await app.close(), await stopRedis()) };
    }
    const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
      bodyParser: false,
      bufferLogs: true,
      abortOnError: false,
    });
    app.useLogger(app.get(AppLogger)); // pino JSON lines (src/observability), replacing Nest's console logger
    app.disable('x-powered-by');
    app.use(express.json({ limit: config.maxBodyBytes, type: ['application/json', 'application/*+json'] }));
    app.use(bodyParserErrorHandler);
    app.useGlobalFilters(new HttpExceptionFilter());
    app.enableShutdownHooks();
    const doc = SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('Humana Events')
        .setDescription('Webhooks and real-time event streams from one event log')
        .setVersion('1')
        .addBearerAuth()
        .build(),
    );
    SwaggerModule.setup('docs', app, doc);
    await app.listen(config.port, config.host);
    const { port } = (app.getHttpServer() as Server).address() as AddressInfo;
    new Logger('Bootstrap').log(`Humana Events (${config.role}) on http://127.0.0.1:${port} — Redis ${redis.url}${redis.child ? ' (spawned)' : ''}`);
    return { config, app, url: `http://127.0.0.1:${port}`, close: async () => (await app.close(), await stopRedis()) };
  } catch (err) {
    await stopRedis();
    throw err;
  }
}
