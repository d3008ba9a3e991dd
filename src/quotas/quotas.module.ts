import { DynamicModule, Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import type { AppConfig } from '../config/config.js';
import { EventsModule } from '../events/events.module.js';
import { OrganizationLimits } from './organization-limits.js';
import { QuotaGate } from './quota-gate.js';
import { perConfig } from '../config/per-config.js';

/** Per-organization quotas and rate limits on publishing (a gate of EventPublisher). */
@Module({})
export class QuotasModule {
  static readonly forRoot = perConfig((config: AppConfig): DynamicModule => {
    return {
      module: QuotasModule,
      imports: [AuthModule.forRoot(config), EventsModule.forRoot(config)],
      providers: [OrganizationLimits, QuotaGate],
    };
  });
}
