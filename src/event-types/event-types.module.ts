import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module.js';
import { AuthModule } from '../auth/auth.module.js';
import { hasApi, type AppConfig } from '../config/config.js';
import { perConfig } from '../config/per-config.js';
import { EventsModule } from '../events/events.module.js';
import { EventTypeRow } from './event-type.entity.js';
import { EventTypeRegistry } from './event-type-registry.js';
import { EventTypesController } from './event-types.controller.js';
import { EventTypesService } from './event-types.service.js';

/**
 * Organizations' own event types: the registry (JSON Schema per type, versioned), the resolver it registers on
 * events' EventTypeDirectory (publish validation, webhook and stream patterns), and the AsyncAPI document.
 */
@Module({})
export class EventTypesModule {
  static readonly forRoot = perConfig((config: AppConfig): DynamicModule => {
    return {
      module: EventTypesModule,
      imports: [
        TypeOrmModule.forFeature([EventTypeRow]),
        AuthModule.forRoot(config),
        AuditModule.forRoot(config),
        EventsModule.forRoot(config),
      ],
      controllers: hasApi(config) ? [EventTypesController] : [],
      providers: [EventTypeRegistry, EventTypesService],
      exports: [],
    };
  });
}
