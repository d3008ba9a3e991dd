import { DynamicModule, Module } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import type { ConnectionOptions } from 'bullmq';
import { WorkerModule } from '../workers/worker.module.js';
import { AdminModule } from './admin/admin.module.js';
import { AuditModule } from './audit/audit.module.js';
import { AuthModule } from './auth/auth.module.js';
import { ConfigModule } from './config/config.module.js';
import { hasWorker, type AppConfig } from './config/config.js';
import { DatabaseModule } from './database/database.module.js';
import { DeliveryModule } from './delivery/delivery.module.js';
import { EventsModule } from './events/events.module.js';
import { EventTypesModule } from './event-types/event-types.module.js';
import { ObservabilityModule } from './observability/observability.module.js';
import { QuotasModule } from './quotas/quotas.module.js';
import { RealtimeModule } from './realtime/realtime.module.js';
import { RedisModule } from './redis/redis.module.js';
import { RedisService } from './redis/redis.service.js';
import { WebhooksModule } from './webhooks/webhooks.module.js';

/**
 * The composition root: infrastructure (global), then every feature; `config.role` decides which controllers (api)
 * and processors (worker) are present. Only this module imports workers/.
 */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        RedisModule,
        DatabaseModule.forRoot(config),
        BullModule.forRootAsync({
          inject: [RedisService],
          useFactory: (redis: RedisService) => ({
            connection: redis.bullConnection('queues') as ConnectionOptions,
            prefix: redis.keys.bullPrefix(),
          }),
        }),
        AuthModule.forRoot(config),
        AuditModule.forRoot(config),
        EventsModule.forRoot(config),
        EventTypesModule.forRoot(config),
        QuotasModule.forRoot(config),
        WebhooksModule.forRoot(config),
        DeliveryModule.forRoot(config),
        RealtimeModule.forRoot(config),
        ObservabilityModule.forRoot(config),
        AdminModule.forRoot(config),
        ...(hasWorker(config) ? [WorkerModule.forRoot(config)] : []),
      ],
    };
  }
}
