import { z } from 'zod';
import { responseSchema } from '../common/api-schemas.js';
import { eventEnvelopeSchema } from '../events/event.responses.js';
import { webhookViewSchema } from '../webhooks/webhook.responses.js';
import type { BulkRetryResult, FailedWebhook } from './dead-letters.js';
import type { DeliveryDetail, DeliverySummary, TestResult } from './deliveries.service.js';
import type { AttemptRecord } from './delivery.entity.js';

const FAILURE_KINDS = ['timeout', 'connection', 'blocked', 'broker', 'rejected', 'redirect', 'http_4xx', 'http_5xx', 'transform'] as const;

export const attemptSchema = responseSchema<AttemptRecord>()(
  'Attempt',
  z.object({
    attempt: z.number().int(),
    timestamp: z.string(),
    statusCode: z.number().int().nullable(),
    duration: z.number().describe('ms'),
    error: z.string().nullable(),
    errorKind: z.enum(FAILURE_KINDS).nullable().optional().describe('null on success; absent on old attempts'),
    responseBody: z.string().describe('first 2 KiB of the response body'),
  }),
);

export const deliverySummarySchema = responseSchema<DeliverySummary>()(
  'DeliverySummary',
  z.object({
    id: z.string(),
    webhookId: z.string(),
    eventId: z.string(),
    event: z.string().describe('the event type'),
    url: z.string(),
    status: z.enum(['pending', 'success', 'retrying', 'failed']),
    statusCode: z.number().int().nullable(),
    duration: z.number().nullable(),
    attempts: z.number().int(),
    timestamp: z.string(),
    kind: z.enum(['event', 'replay', 'dlq_retry', 'test', 'batch']),
    error: z.string().nullable(),
    nextAttemptAt: z.string().nullable(),
    variant: z.string().nullable(),
    sequence: z.number().int().nullable(),
  }),
);

export const deliveryDetailSchema = responseSchema<DeliveryDetail>()(
  'DeliveryDetail',
  deliverySummarySchema.extend({
    eventPublishedAt: z.string(),
    succeededAt: z.string().nullable(),
    attemptHistory: z.array(attemptSchema),
  }),
);

export const deliveryPageSchema = responseSchema<{ deliveries: DeliverySummary[]; nextCursor: string | null }>()(
  'DeliveryList',
  z.object({ deliveries: z.array(deliverySummarySchema), nextCursor: z.string().nullable() }),
);

export const testResultSchema = responseSchema<TestResult>()(
  'TestResult',
  z.object({
    success: z.boolean(),
    statusCode: z.number().int().nullable(),
    duration: z.number(),
    error: z.string().nullable(),
    deliveryId: z.string(),
  }),
);

/** A new delivery queued (replay of one delivery, retry of one DLQ entry). */
export const queuedDeliverySchema = responseSchema<{ deliveryId: string }>()('QueuedDelivery', z.object({ deliveryId: z.string() }));

export const replayRangeResultSchema = responseSchema<{ replayed: number; truncated: boolean }>()(
  'ReplayRangeResult',
  z.object({ replayed: z.number().int(), truncated: z.boolean() }),
);

export const backlogSchema = responseSchema<{ pending: number; oldestAt: string | null }>()(
  'Backlog',
  z.object({ pending: z.number().int(), oldestAt: z.string().nullable() }),
);

export const failedWebhookSchema = responseSchema<FailedWebhook>()(
  'FailedWebhook',
  z.object({
    id: z.string(),
    webhookId: z.string(),
    deliveryId: z.string(),
    originalWebhook: webhookViewSchema.describe('the webhook when the delivery failed'),
    event: z.union([eventEnvelopeSchema, z.object({ events: z.array(eventEnvelopeSchema) })]).describe('the event, or a batch'),
    attempts: z.array(attemptSchema),
    failureReason: z.string(),
    createdAt: z.string(),
    lastAttempt: z.string(),
    webhookEnabled: z.boolean().nullable().describe('the webhook now: false when disabled, null when deleted'),
    retryBlockedReason: z.enum(['webhook_disabled', 'webhook_deleted']).nullable(),
  }),
);

export const dlqPageSchema = responseSchema<{ failedWebhooks: FailedWebhook[]; nextCursor: string | null }>()(
  'DlqList',
  z.object({ failedWebhooks: z.array(failedWebhookSchema), nextCursor: z.string().nullable() }),
);

export const bulkRetrySchema = responseSchema<BulkRetryResult>()(
  'BulkRetryResult',
  z.object({
    retried: z.number().int(),
    skipped: z.number().int(),
    skippedEntries: z.array(z.object({ id: z.string(), webhookId: z.string(), reason: z.string() })),
    deliveryIds: z.array(z.string()),
    truncated: z.boolean(),
  }),
);

export const purgeResultSchema = responseSchema<{ purged: number }>()('PurgeResult', z.object({ purged: z.number().int() }));
