import { DynamicModule, Module } from '@nestjs/common';
import { readsEventLog, type AppConfig } from '../src/config/config.js';
import { DeliveryModule } from '../src/delivery/delivery.module.js';
import { SchedulingModule } from '../src/scheduling/scheduling.module.js';
import { DeliveryProcessor } from './delivery.processor.js';
import { MaintenanceProcessor } from './maintenance.processor.js';
import { perConfig } from '../src/config/per-config.js';

/** The queue processors of a worker process (ROLE=worker|all): thin entry points into the features' use cases. */
@Module({})
export class WorkerModule {
  static readonly forRoot = perConfig((config: AppConfig): DynamicModule => {
    return {
      module: WorkerModule,
      imports: [DeliveryModule.forRoot(config), SchedulingModule],
      // an overflow-lane process works only its lane's fan-out jobs: the scheduled tasks run on the main lane
      providers: [DeliveryProcessor, ...(readsEventLog(config) ? [MaintenanceProcessor] : [])],
    };
  });
}
