import { DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { hasApi, type AppConfig } from '../config/config.js';
import { ApiKey } from './api-key.entity.js';
import { AuthService } from './auth.service.js';
import { AdminGuard, ApiKeyGuard } from './guards.js';
import { Organization } from './organization.entity.js';
import { perConfig } from '../config/per-config.js';

/** Organizations and API keys; in the API role, the global guard that authenticates every route. */
@Module({})
export class AuthModule {
  static readonly forRoot = perConfig((config: AppConfig): DynamicModule => {
    return {
      module: AuthModule,
      imports: [TypeOrmModule.forFeature([Organization, ApiKey])],
      providers: [AuthService, AdminGuard, ...(hasApi(config) ? [{ provide: APP_GUARD, useClass: ApiKeyGuard }] : [])],
      exports: [AuthService, AdminGuard],
    };
  });
}
