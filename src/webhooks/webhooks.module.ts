import { DynamicModule, Global, Inject, Injectable, Module, OnModuleInit } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import { TypeOrmModule } from '@nestjs/typeorm';
import { BullBoardModule, type BullBoardModuleOptions } from '@bull-board/nestjs';
import { ExpressAdapter } from '@bull-board/express';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { APP_CONFIG, hasApi, hasWorker, type AppConfig } from '../config/config.js';
import { MaintenanceRegistry, MAINTENANCE_QUEUE } from '../../workers/maintenance.js';
import { DeliveryWorker } from '../../workers/delivery.worker.js';
import { BULL_BOARD_ROUTE, bullBoardAuth } from '../delivery/bull-board.js';
import { DeadLetters } from '../delivery/dead-letters.js';
import { DeliveriesService } from '../delivery/deliveries.service.js';
import { Delivery } from '../delivery/delivery.entity.js';
import { DeliveryExecutor } from '../delivery/delivery-executor.js';
import { DeliveryLog } from '../delivery/delivery-log.js';
import { DeliveryQueue } from '../delivery/delivery-queue.js';
import { DeliveryStats } from '../delivery/delivery-stats.js';
import { DlqController } from '../delivery/dlq.controller.js';
import { DlqEntry } from '../delivery/dlq-entry.entity.js';
import { HttpSender } from '../delivery/http-sender.js';
import { WEBHOOK_QUEUES } from '../delivery/queues.js';
import { WebhookBatcher } from '../delivery/webhook-batcher.js';
import { WebhookIndex } from './webhook-index.js';
import { WebhookMatcher } from './webhook-matcher.js';
import { Webhook } from './webhook.entity.js';
import { WebhooksController } from './webhooks.controller.js';
import { WebhooksService } from './webhooks.service.js';

const DAY_MS = 24 * 3600 * 1000;

@Injectable()
class DlqRetention implements OnModuleInit {
  constructor(
    private readonly registry: MaintenanceRegistry,
    private readonly dlq: DeadLetters,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.registry.register({
      name: 'purge-dlq',
      everyMs: this.config.dlqPurgeIntervalMs,
      run: async () => ({ purged: await this.dlq.purge(new Date(Date.now() - this.config.dlqRetentionDays * DAY_MS)) }),
    });
  }
}

const senderProviders = [
  { provide: HttpSender, inject: [APP_CONFIG], useFactory: (c: AppConfig) => new HttpSender(c.allowPrivateWebhookUrls) },
  { provide: DeliveryExecutor, inject: [HttpSender], useFactory: (s: HttpSender) => new DeliveryExecutor(s) },
];

function bullBoard(config: AppConfig): DynamicModule[] {
  return [
    BullBoardModule.forRoot({ route: BULL_BOARD_ROUTE, adapter: ExpressAdapter as unknown as BullBoardModuleOptions['adapter'], middleware: bullBoardAuth(config), boardOptions: { uiConfig: { boardTitle: 'Humana Events' } } }),
    BullBoardModule.forFeature({ name: WEBHOOK_QUEUES.delivery, adapter: BullMQAdapter }, { name: MAINTENANCE_QUEUE, adapter: BullMQAdapter }),
  ];
}

/**
 * Webhooks: management API, subscription index and matcher (src/webhooks), delivery queue, log, DLQ and replay
 * (src/delivery), the BullMQ delivery processor (workers/), and Bull Board (API role).
 * Global so that health and metrics can inject DeliveryStats.
 */
@Global()
@Module({})
export class WebhooksModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: WebhooksModule,
      imports: [
        TypeOrmModule.forFeature([Webhook, Delivery, DlqEntry]),
        BullModule.registerQueue({ name: WEBHOOK_QUEUES.delivery }),
        ...(hasApi(config) ? bullBoard(config) : []),
      ],
      controllers: hasApi(config) ? [WebhooksController, DlqController] : [],
      providers: [
        ...senderProviders,
        DeliveryLog,
        DeliveryQueue,
        DeadLetters,
        DeliveriesService,
        DeliveryStats,
        WebhooksService,
        DlqRetention,
        ...(hasWorker(config) ? [WebhookIndex, WebhookMatcher, WebhookBatcher, DeliveryWorker] : []),
      ],
      exports: [DeliveryStats],
    };
  }
}
