import { DynamicModule, Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { hasApi, type AppConfig } from '../config/config.js';
import { AdminController } from './admin.controller.js';
import { ApiKey } from './api-key.entity.js';
import { AuthService } from './auth.service.js';
import { AdminGuard, ApiKeyGuard } from './guards.js';
import { Organization } from './organization.entity.js';

@Global()
@Module({})
export class AuthModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AuthModule,
      imports: [TypeOrmModule.forFeature([Organization, ApiKey])],
      controllers: hasApi(config) ? [AdminController] : [],
      providers: [AuthService, AdminGuard, ...(hasApi(config) ? [{ provide: APP_GUARD, useClass: ApiKeyGuard }] : [])],
      exports: [AuthService, AdminGuard],
    };
  }
}
