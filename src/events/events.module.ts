import { DynamicModule, Inject, Injectable, Module, OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG, hasApi, readsEventLog, type AppConfig } from '../config/config.js';
import { MaintenanceRegistry } from '../scheduling/maintenance-registry.js';
import { SchedulingModule } from '../scheduling/scheduling.module.js';
import { EventRecord } from './event-record.entity.js';
import { EventLog } from './event-log.js';
import { EventTypeDirectory } from './event-type-directory.js';
import { EventsController } from './events.controller.js';
import { HistoryService } from './history.service.js';
import { HistoryWriter } from './history-writer.js';
import { LogTrimmer } from './log-trimmer.js';
import { EventPublisher } from './publisher.js';
import { SystemEvents } from './system-events.js';
import { perConfig } from '../config/per-config.js';

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

/** The event log and everything on it: publish, history (SQL), log trimming, system events. */
@Module({})
export class EventsModule {
  static readonly forRoot = perConfig((config: AppConfig): DynamicModule => {
    return {
      module: EventsModule,
      imports: [TypeOrmModule.forFeature([EventRecord]), SchedulingModule],
      controllers: hasApi(config) ? [EventsController] : [],
      providers: [
        EventLog,
        EventTypeDirectory,
        EventPublisher,
        HistoryService,
        SystemEvents,
        ...(readsEventLog(config) ? [HistoryWriter, HistoryRetention, LogTrimmer] : []),
      ],
      exports: [EventLog, EventTypeDirectory, EventPublisher, HistoryService, SystemEvents],
    };
  });
}
