import { DynamicModule, Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { hasApi, type AppConfig } from '../config/config.js';
import { AuditController } from './audit.controller.js';
import { AuditEntry } from './audit-entry.entity.js';
import { AuditService } from './audit.service.js';

@Global()
@Module({})
export class AuditModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AuditModule,
      imports: [TypeOrmModule.forFeature([AuditEntry])],
      controllers: hasApi(config) ? [AuditController] : [],
      providers: [AuditService],
      exports: [AuditService],
    };
  }
}
