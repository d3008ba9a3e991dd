import { DynamicModule, Module } from '@nestjs/common';
import { ApplicationConfig, HttpAdapterHost } from '@nestjs/core';
import { APP_CONFIG, hasApi, type AppConfig } from '../config/config.js';
import { RedisService } from '../redis/redis.service.js';
import { ConnectionLimiter } from './connection-limiter.js';
import { EventFanout } from './event-fanout.js';
import { EventsGateway } from './events.gateway.js';
import { LogReplay } from './log-replay.js';
import { EventsIoAdapter } from './socketio-adapter.js';
import { SseController } from './sse.controller.js';
import { SseStreams } from './sse-streams.js';
import { StreamCommands } from './stream-commands.js';
import { WsStreams } from './ws-streams.js';

const IO_ADAPTER = Symbol('EventsIoAdapter');

/**
 * The live transports (API role only): the event-log tail and subscription index, SSE, raw WebSocket and the
 * Socket.IO gateway. The Socket.IO server adapter is installed here, before Nest connects gateways at init.
 */
@Module({})
export class RealtimeModule {
  static forRoot(config: AppConfig): DynamicModule {
    if (!hasApi(config)) return { module: RealtimeModule };
    return {
      module: RealtimeModule,
      controllers: [SseController],
      providers: [
        EventFanout,
        LogReplay,
        ConnectionLimiter,
        StreamCommands,
        SseStreams,
        WsStreams,
        EventsGateway,
        {
          provide: IO_ADAPTER,
          inject: [ApplicationConfig, HttpAdapterHost, RedisService, APP_CONFIG],
          useFactory: (app: ApplicationConfig, host: HttpAdapterHost, redis: RedisService, cfg: AppConfig) => {
            const adapter = new EventsIoAdapter(host, redis, cfg);
            app.setIoAdapter(adapter);
            return adapter;
          },
        },
      ],
      exports: [EventFanout],
    };
  }
}
