import { DynamicModule, Inject, Injectable, Module, OnModuleInit } from '@nestjs/common';
import { BullModule, getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module.js';
import { APP_CONFIG, hasApi, hasWorker, readsEventLog, type AppConfig } from '../config/config.js';
import { Destinations } from '../destinations/destinations.js';
import { DestinationsModule } from '../destinations/destinations.module.js';
import { EventsModule } from '../events/events.module.js';
import { MaintenanceRegistry } from '../scheduling/maintenance-registry.js';
import { SchedulingModule } from '../scheduling/scheduling.module.js';
import { Webhook } from '../webhooks/webhook.entity.js';
import { WebhookLifecycle } from '../webhooks/webhook-lifecycle.js';
import { TransformHealth } from '../webhooks/transform-health.js';
import { TransformPool } from '../webhooks/transform-pool.js';
import { WebhooksModule } from '../webhooks/webhooks.module.js';
import { DeadLetters } from './dead-letters.js';
import { DeliveriesController } from './deliveries.controller.js';
import { DeliveriesService } from './deliveries.service.js';
import { Delivery } from './delivery.entity.js';
import { DeliveryExecutor } from './delivery-executor.js';
import { DeliveryLog } from './delivery-log.js';
import { DeliveryOutcomes } from './delivery-outcomes.js';
import { DeliveryQueue } from './delivery-queue.js';
import { DeliveryRunner } from './delivery-runner.js';
import { EndpointEngine } from './endpoint-engine.js';
import { EventDeliveriesController } from './event-deliveries.controller.js';
import { EndpointsController } from './endpoints.controller.js';
import { DeliveryStats } from './delivery-stats.js';
import { DlqController } from './dlq.controller.js';
import { DlqEntry } from './dlq-entry.entity.js';
import { DELIVERY_QUEUES, deliveryQueueSpecs, FANOUT_QUEUES, OVERFLOW_QUEUES, type DeliveryLane } from './queues.js';
import { RedisKeys } from '../redis/keys.js';
import { WebhookBatcher } from './webhook-batcher.js';
import { WebhookMatcher } from './webhook-matcher.js';
import { perConfig } from '../config/per-config.js';

const DAY_MS = 24 * 3600 * 1000;

/** Scheduled DLQ purge, and the end of pending retries when a webhook stops taking deliveries. */
@Injectable()
class DeliveryHousekeeping implements OnModuleInit {
  constructor(
    private readonly registry: MaintenanceRegistry,
    private readonly dlq: DeadLetters,
    private readonly queue: DeliveryQueue,
    private readonly lifecycle: WebhookLifecycle,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.registry.register({
      name: 'purge-dlq',
      everyMs: this.config.dlqPurgeIntervalMs,
      run: async () => ({ purged: await this.dlq.purge(new Date(Date.now() - this.config.dlqRetentionDays * DAY_MS)) }),
    });
    this.lifecycle.onStopped((webhook, reason) => this.queue.cancelPending(webhook, reason));
  }
}

/**
 * Getting events to webhooks: the matcher (a consumer group of the event log), the delivery queue, attempts, the
 * delivery log, the DLQ, replay and the test send. The queue's processor lives in workers/ and calls DeliveryRunner.
 */
@Module({})
export class DeliveryModule {
  static readonly forRoot = perConfig((config: AppConfig): DynamicModule => {
    const worker = hasWorker(config) ? [WebhookBatcher, DeliveryRunner, EndpointEngine] : [];
    const matcher = readsEventLog(config) ? [WebhookMatcher] : [];
    const queues = deliveryQueueSpecs(new RedisKeys(config.redisPrefix), config.eventLogPartitions.count);
    const partitioned = config.eventLogPartitions.count > 1;
    // Each lane's queue per partition: the per-partition ones, or with one partition the lane's only queue.
    const laneQueues = (all: Queue[], lane: DeliveryLane) =>
      all.filter((_q, i) => queues[i].lane === lane && queues[i].perPartition === partitioned);
    return {
      module: DeliveryModule,
      imports: [
        TypeOrmModule.forFeature([Delivery, DlqEntry, Webhook]),
        BullModule.registerQueue(...queues),
        SchedulingModule,
        DestinationsModule,
        AuditModule.forRoot(config),
        EventsModule.forRoot(config),
        WebhooksModule.forRoot(config),
      ],
      controllers: hasApi(config) ? [DeliveriesController, EventDeliveriesController, DlqController, EndpointsController] : [],
      providers: [
        {
          provide: DeliveryExecutor,
          inject: [Destinations, TransformPool, TransformHealth],
          useFactory: (d: Destinations, t: TransformPool, h: TransformHealth) => new DeliveryExecutor(d, t, h),
        },
        { provide: DELIVERY_QUEUES, inject: queues.map((q) => getQueueToken(q.name)), useFactory: (...all: Queue[]) => all },
        // with one partition, fan-outs go to the main queue; with more, to their partition's queue (per lane)
        { provide: FANOUT_QUEUES, inject: [DELIVERY_QUEUES], useFactory: (all: Queue[]) => laneQueues(all, 'main') },
        { provide: OVERFLOW_QUEUES, inject: [DELIVERY_QUEUES], useFactory: (all: Queue[]) => laneQueues(all, 'overflow') },
        DeliveryOutcomes,
        DeliveryLog,
        DeliveryQueue,
        DeadLetters,
        DeliveriesService,
        DeliveryStats,
        DeliveryHousekeeping,
        ...worker,
        ...matcher,
      ],
      exports: [DeliveryStats, DeliveryOutcomes, BullModule, ...(hasWorker(config) ? [DeliveryRunner] : [])],
    };
  });
}
