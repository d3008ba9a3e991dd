import { Module } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import { MAINTENANCE_QUEUE, MaintenanceRegistry } from './maintenance-registry.js';

/**
 * Scheduled clean-up tasks: features register them in the MaintenanceRegistry; the maintenance processor (workers/)
 * schedules and runs them. One registry per app, whichever modules import this one.
 */
@Module({
  imports: [BullModule.registerQueue({ name: MAINTENANCE_QUEUE })],
  providers: [MaintenanceRegistry],
  exports: [MaintenanceRegistry, BullModule],
})
export class SchedulingModule {}
