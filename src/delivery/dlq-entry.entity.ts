import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { EventEnvelope } from '../events/envelope.js';
import type { WebhookView } from '../webhooks/webhook-view.js';
import type { AttemptRecord } from './delivery.entity.js';

/** The webhook as it was when the delivery failed, as the API shows it (no secret). */
export type WebhookSnapshot = WebhookView;

/** A delivery that exhausted its attempts or failed for good: the seed's `FailedWebhook`. */
@Entity('dlq_entries')
@Index('idx_dlq_org_id', ['organizationId', 'id'])
@Index('idx_dlq_created', ['createdAt'])
export class DlqEntry {
  /** dlq_… (derived from the delivery id: one entry per failed delivery, however often the failure is recorded). */
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id!: string;

  @Column({ name: 'organization_id', type: 'varchar', length: 64 })
  organizationId!: string;

  @Column({ name: 'webhook_id', type: 'varchar', length: 64 })
  webhookId!: string;

  @Column({ name: 'delivery_id', type: 'varchar', length: 64 })
  deliveryId!: string;

  @Column({ name: 'event_id', type: 'varchar', length: 64 })
  eventId!: string;

  @Column({ name: 'event_type', type: 'varchar', length: 64 })
  eventType!: string;

  @Column({ name: 'original_webhook', type: 'simple-json' })
  originalWebhook!: WebhookSnapshot;

  /** The envelope, or `{events:[…]}` for a batch delivery. */
  @Column({ type: 'simple-json' })
  event!: EventEnvelope | { events: EventEnvelope[] };

  @Column({ type: 'simple-json' })
  attempts!: AttemptRecord[];

  @Column({ name: 'failure_reason', type: 'text' })
  failureReason!: string;

  @Column({ name: 'created_at', type: 'varchar', length: 32 })
  createdAt!: string;

  @Column({ name: 'last_attempt', type: 'varchar', length: 32 })
  lastAttempt!: string;
}
