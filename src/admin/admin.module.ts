import { DynamicModule, Module, RequestMethod, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { BullBoardModule, type BullBoardModuleOptions } from '@bull-board/nestjs';
import { ExpressAdapter } from '@bull-board/express';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { AuditModule } from '../audit/audit.module.js';
import { AuthModule } from '../auth/auth.module.js';
import { hasApi, type AppConfig } from '../config/config.js';
import { DeliveryModule } from '../delivery/delivery.module.js';
import { deliveryQueueSpecs } from '../delivery/queues.js';
import { RedisKeys } from '../redis/keys.js';
import { MAINTENANCE_QUEUE } from '../scheduling/maintenance-registry.js';
import { SchedulingModule } from '../scheduling/scheduling.module.js';
import { AdminController } from './admin.controller.js';
import { RootController } from './root.controller.js';
import { BULL_BOARD_ROUTE, bullBoardAuth } from './bull-board.js';
import { loadConsoleFiles } from './console-files.js';
import { CONSOLE_FILES, ConsoleMiddleware } from './console.middleware.js';
import { perConfig } from '../config/per-config.js';

function bullBoard(config: AppConfig): DynamicModule[] {
  return [
    BullBoardModule.forRoot({
      route: BULL_BOARD_ROUTE,
      adapter: ExpressAdapter as unknown as BullBoardModuleOptions['adapter'],
      middleware: bullBoardAuth(config),
      boardOptions: { uiConfig: { boardTitle: 'Humana Events' } },
    }),
    BullBoardModule.forFeature(
      ...deliveryQueueSpecs(new RedisKeys(config.redisPrefix), config.eventLogPartitions.count).map(({ name }) => ({
        name,
        adapter: BullMQAdapter,
      })),
      { name: MAINTENANCE_QUEUE, adapter: BullMQAdapter },
    ),
  ];
}

/** The operator's surface (API role only): the admin API (organizations, keys, limits), the console at /admin and Bull Board. */
@Module({})
export class AdminModule implements NestModule {
  static readonly forRoot = perConfig((config: AppConfig): DynamicModule => {
    if (!hasApi(config)) return { module: AdminModule };
    return {
      module: AdminModule,
      imports: [
        AuthModule.forRoot(config),
        AuditModule.forRoot(config),
        DeliveryModule.forRoot(config),
        SchedulingModule,
        ...bullBoard(config),
      ],
      controllers: [AdminController, RootController],
      providers: [{ provide: CONSOLE_FILES, useFactory: () => loadConsoleFiles() }, ConsoleMiddleware],
    };
  });

  configure(consumer: MiddlewareConsumer): void {
    consumer
      .apply(ConsoleMiddleware)
      .forRoutes({ path: 'admin', method: RequestMethod.GET }, { path: 'admin/*path', method: RequestMethod.GET });
  }
}
