import { Injectable, Logger } from '@nestjs/common';
import type { EventDataMap } from './catalog.js';
import { EventPublisher } from './publisher.js';

export type SystemEventType = 'error.occurred' | 'performance.degraded' | 'quota.warning' | 'quota.exceeded';

/**
 * Events the platform publishes about itself, through the same pipeline as customer events (so webhooks, streams and
 * history carry them), never counted against or blocked by the organization's quotas. Failures are logged, not thrown:
 * reporting a problem must not turn into a second one.
 */
@Injectable()
export class SystemEvents {
  private readonly logger = new Logger('SystemEvents');

  constructor(private readonly publisher: EventPublisher) {}

  async publish<K extends SystemEventType>(
    organizationId: string,
    type: K,
    data: Omit<EventDataMap[K], 'timestamp'>,
  ): Promise<string | null> {
    try {
      const { event } = await this.publisher.publishTyped(organizationId, type, data, { system: true });
      this.logger.log({ msg: `system event ${type}`, organizationId, eventId: event.id, eventType: type });
      return event.id;
    } catch (err) {
      this.logger.error({ msg: `could not publish system event ${type}: ${(err as Error).message}`, organizationId, eventType: type });
      return null;
    }
  }
}
