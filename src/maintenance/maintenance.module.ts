import { DynamicModule, Global, Module } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import { hasWorker, type AppConfig } from '../config/config.js';
import { MAINTENANCE_QUEUE, MaintenanceRegistry } from '../../workers/maintenance.js';
import { MaintenanceProcessor } from '../../workers/maintenance.processor.js';

@Global()
@Module({})
export class MaintenanceModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: MaintenanceModule,
      imports: [BullModule.registerQueue({ name: MAINTENANCE_QUEUE })],
      providers: [MaintenanceRegistry, ...(hasWorker(config) ? [MaintenanceProcessor] : [])],
      exports: [MaintenanceRegistry, BullModule],
    };
  }
}
