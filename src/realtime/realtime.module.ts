import { DynamicModule, Module } from '@nestjs/common';
import { ApplicationConfig, HttpAdapterHost } from '@nestjs/core';
import { AuthModule } from '../auth/auth.module.js';
import { APP_CONFIG, hasApi, type AppConfig } from '../config/config.js';
import { EventsModule } from '../events/events.module.js';
import { RedisService } from '../redis/redis.service.js';
import { ConnectionCounter } from './connection-counter.js';
import { ConnectionLimiter } from './connection-limiter.js';
import { EventFanout } from './event-fanout.js';
import { EventsGateway } from './events.gateway.js';
import { LogReplay } from './log-replay.js';
import { ResumeSlots } from './resume-slots.js';
import { OpenStreams } from './open-streams.js';
import { EventsIoAdapter } from './socketio-adapter.js';
import { SseController } from './sse.controller.js';
import { SseStreams } from './sse-streams.js';
import { StreamCommands } from './stream-commands.js';
import { TailStatus } from './tail-status.js';
import { WsStreams } from './ws-streams.js';
import { perConfig } from '../config/per-config.js';

const IO_ADAPTER = Symbol('EventsIoAdapter');

/** What other modules may read of real-time in every role: connection counts and the state of the log tail. */
const status = [ConnectionCounter, TailStatus];

/**
 * The live transports (API role only): the event-log tail and subscription index, SSE, raw WebSocket and the
 * Socket.IO gateway. The Socket.IO server adapter is installed here, before Nest connects gateways at init.
 */
@Module({})
export class RealtimeModule {
  static readonly forRoot = perConfig((config: AppConfig): DynamicModule => {
    if (!hasApi(config)) return { module: RealtimeModule, providers: status, exports: status };
    return {
      module: RealtimeModule,
      imports: [AuthModule.forRoot(config), EventsModule.forRoot(config)],
      controllers: [SseController],
      providers: [
        ...status,
        EventFanout,
        LogReplay,
        ResumeSlots,
        ConnectionLimiter,
        OpenStreams,
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
      exports: status,
    };
  });
}
