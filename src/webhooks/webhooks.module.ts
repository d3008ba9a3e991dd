import { DynamicModule, Module, type Provider } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EventsModule } from '../events/events.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { APP_CONFIG, hasApi, hasWorker, type AppConfig } from '../config/config.js';
import { TransformHealth } from './transform-health.js';
import { TransformPool } from './transform-pool.js';
import { WebhookIndex } from './webhook-index.js';
import { WebhookLifecycle } from './webhook-lifecycle.js';
import { Webhook } from './webhook.entity.js';
import { WebhooksController } from './webhooks.controller.js';
import { WebhooksService } from './webhooks.service.js';
import { perConfig } from '../config/per-config.js';

/**
 * Webhook definitions: the management API, validation (SSRF, patterns, transforms), signing keys, and the per-process
 * subscription index the delivery side matches against (worker role), and the transform threads (TransformPool) the
 * preview and delivery evaluate JSONata in. Delivery itself is the delivery module's.
 */
@Module({})
export class WebhooksModule {
  static readonly forRoot = perConfig((config: AppConfig): DynamicModule => {
    const index = hasWorker(config) ? [WebhookIndex] : [];
    const pool: Provider = { provide: TransformPool, inject: [APP_CONFIG], useFactory: (c: AppConfig) => new TransformPool(c.transforms) };
    return {
      module: WebhooksModule,
      imports: [TypeOrmModule.forFeature([Webhook]), AuditModule.forRoot(config), EventsModule.forRoot(config)],
      controllers: hasApi(config) ? [WebhooksController] : [],
      providers: [WebhooksService, WebhookLifecycle, TransformHealth, pool, ...index],
      exports: [WebhooksService, WebhookLifecycle, TransformHealth, TransformPool, ...index],
    };
  });
}
