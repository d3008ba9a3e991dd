import { DynamicModule, Global, Inject, Injectable, Module, OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG, hasApi, hasWorker, type AppConfig } from '../config/config.js';
import { MaintenanceRegistry } from '../../workers/maintenance.js';
import { EventRecord } from './event-record.entity.js';
import { EventLog } from './event-log.js';
import { EventsController } from './events.controller.js';
import { HistoryService } from './history.service.js';
import { HistoryWriter } from './history-writer.js';
import { LogTrimmer } from './log-trimmer.js';
import { EventPublisher } from './publisher.js';

const DAY_MS = 24 * 3600 * 1000;

@Injectable()
class HistoryRetention implements OnModuleInit {
  constructor(
    private readonly registry: MaintenanceRegistry,
    private readonly history: HistoryService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.registry.register({
      name: 'purge-history',
      everyMs: 3600_000,
      run: async () => ({ purged: await this.history.purgeOlderThan(Date.now() - this.config.eventRetentionDays * DAY_MS) }),
    });
  }
}

@Global()
@Module({})
export class EventsModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: EventsModule,
      imports: [TypeOrmModule.forFeature([EventRecord])],
      controllers: hasApi(config) ? [EventsController] : [],
      providers: [EventLog, EventPublisher, HistoryService, ...(hasWorker(config) ? [HistoryWriter, HistoryRetention, LogTrimmer] : [])],
      exports: [EventLog, EventPublisher, HistoryService],
    };
  }
}
