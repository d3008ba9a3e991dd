import { Injectable } from '@nestjs/common';
import type { Webhook } from './webhook.entity.js';

/** Called when a webhook stops taking deliveries (disabled or deleted); awaited before the API answers. */
export type WebhookStoppedListener = (webhook: Webhook, reason: string) => Promise<unknown>;

/** The seam through which other modules (delivery) react to webhook management, without webhooks knowing them. */
@Injectable()
export class WebhookLifecycle {
  private readonly stoppedListeners: WebhookStoppedListener[] = [];

  onStopped(listener: WebhookStoppedListener): void {
    this.stoppedListeners.push(listener);
  }

  async stopped(webhook: Webhook, reason: string): Promise<void> {
    for (const listener of this.stoppedListeners) await listener(webhook, reason);
  }
}
