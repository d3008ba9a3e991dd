import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { envelopeOf, type LoggedEvent } from '../events/envelope.js';
import { EventLog } from '../events/event-log.js';
import { LogConsumer } from '../events/log-consumer.js';
import { RedisService } from '../redis/redis.service.js';
import { DeliveryQueue } from './delivery-queue.js';
import { chunkFanouts, deliveryIdFor, type FanoutItem } from './queues.js';
import { WebhookIndex } from '../webhooks/webhook-index.js';

/**
 * Reads the event log through the `webhooks` consumer group, matches each event once against the subscription index
 * and groups the batch's deliveries into fan-out jobs, one per organization and chunk of at most FANOUT_CHUNK
 * deliveries (chunkFanouts), added with a single addBulk per log batch. The batch is acknowledged only after its jobs
 * are in BullMQ. Delivery ids derive from the event and webhook, job ids from the job's contents (fanoutJobId), so
 * matching the same batch again after a crash (the consumer re-reads its own pending batch) adds nothing new. A batch
 * that re-forms differently (entries claimed from a dead matcher joining a failed batch) gets other job ids: its
 * deliveries may then be made twice (at-least-once; receivers de-duplicate on `webhook-id`), never lost.
 *
 * Guarantee: a webhook receives every matching event appended after its creation was acknowledged (the 201), even
 * when this process learns about the webhook late (change message delayed or lost, index refresh not yet due).
 * Why: creating a webhook records the log position (`createdAtStreamId`: the last stream id of its organization's log
 * partition, whose stream holds every event that can match it, read before the insert), inserts the row,
 * then bumps the webhooks change version, and only then answers. Before matching a batch, which it read after its
 * events were appended, the matcher calls `WebhookIndex.ensureCurrent()`: it reads the version and, if the index is
 * behind, reloads it from SQL. So an event appended after the 201 is matched by an index holding the webhook, and
 * "existed when appended" is decided by stream ids (one clock: Redis'), not by process clocks. The same holds for
 * updates (a webhook enabled or re-pointed receives events appended after the update was acknowledged).
 * Cost: one GET per batch of up to 500 entries; a full reload only when a change message has not arrived yet.
 */
@Injectable()
export class WebhookMatcher implements OnApplicationBootstrap, OnModuleDestroy {
  private consumer?: LogConsumer;

  constructor(
    private readonly redis: RedisService,
    private readonly log: EventLog,
    private readonly index: WebhookIndex,
    private readonly deliveries: DeliveryQueue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.consumer = new LogConsumer((p) => this.redis.connect(`webhook-matcher:p${p}`), this.log.streamKeys, {
      group: 'webhooks',
      batchSize: 500,
      claimIdleMs: this.config.webhookStallMs,
      handle: (events, batch) => this.handle(events, batch),
    });
    this.consumer.start();
  }

  async handle(events: LoggedEvent[], batch = { redelivered: false }): Promise<void> {
    await this.index.ensureCurrent();
    const items: FanoutItem[] = [];
    for (const e of events) {
      const hooks = this.index.match(e);
      if (!hooks.length) continue;
      items.push({
        event: envelopeOf(e),
        traceparent: e.traceparent,
        targets: hooks.map((h) => ({ webhookId: h.id, deliveryId: deliveryIdFor(e.id, h.id), kind: 'event' as const })),
      });
    }
    await this.deliveries.addFanouts(chunkFanouts(items), batch);
  }

  async onModuleDestroy(): Promise<void> {
    await this.consumer?.stop();
  }
}
