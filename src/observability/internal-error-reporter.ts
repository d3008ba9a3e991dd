import { Injectable } from '@nestjs/common';
import { newId } from '../common/ids.js';
import { SystemEvents } from '../events/system-events.js';

const ONCE_PER_MS = 60_000;

/**
 * An unexpected failure (a 500: not an HTTP error the code chose) while serving an organization's request becomes an
 * `error.occurred` event for that organization, at most once a minute per organization, without internals in it.
 */
@Injectable()
export class InternalErrorReporter {
  private readonly lastReported = new Map<string, number>();

  constructor(private readonly systemEvents: SystemEvents) {}

  report(organizationId: string, method: string, route: string): void {
    const now = Date.now();
    if ((this.lastReported.get(organizationId) ?? 0) > now - ONCE_PER_MS) return;
    if (this.lastReported.size > 10_000) this.lastReported.clear();
    this.lastReported.set(organizationId, now);
    void this.systemEvents.publish(organizationId, 'error.occurred', {
      errorId: newId('err'),
      type: 'processing',
      message: `Internal error while handling ${method} ${route}`,
      severity: 'high',
    });
  }
}
