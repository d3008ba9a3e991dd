import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { hasApi, type AppConfig } from '../config/config.js';
import { AuditController } from './audit.controller.js';
import { AuditEntry } from './audit-entry.entity.js';
import { AuditService } from './audit.service.js';
import { perConfig } from '../config/per-config.js';

/** The audit log of management actions: written by the features that act, read through the API. */
@Module({})
export class AuditModule {
  static readonly forRoot = perConfig((config: AppConfig): DynamicModule => {
    return {
      module: AuditModule,
      imports: [TypeOrmModule.forFeature([AuditEntry])],
      controllers: hasApi(config) ? [AuditController] : [],
      providers: [AuditService],
      exports: [AuditService],
    };
  });
}
