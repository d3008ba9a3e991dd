import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EventsModule } from '../events/events.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { hasApi, hasWorker, type AppConfig } from '../config/config.js';
import { WebhookIndex } from './webhook-index.js';
import { WebhookLifecycle } from './webhook-lifecycle.js';
import { Webhook } from './webhook.entity.js';
import { WebhooksController } from './webhooks.controller.js';
import { WebhooksService } from './webhooks.service.js';
import { perConfig } from '../config/per-config.js';

/**
 * Webhook definitions: the management API, validation (SSRF, patterns, transforms), signing keys, and the per-process
 * subscription index the delivery side matches against (worker role). Delivery itself is the delivery module's.
 */
@Module({})
export class WebhooksModule {
  static readonly forRoot = perConfig((config: AppConfig): DynamicModule => {
  const index = hasWorker(config) ? [WebhookIndex] : [];
  return {
    module: WebhooksModule,
    imports: [TypeOrmModule.forFeature([Webhook]), AuditModule.forRoot(config), EventsModule.forRoot(config)],
    controllers: hasApi(config) ? [WebhooksController] : [],
    providers: [WebhooksService, WebhookLifecycle, ...index],
    exports: [WebhooksService, WebhookLifecycle, ...index],
  };
  });
}
