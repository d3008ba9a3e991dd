import { z } from 'zod';
import { opaque, responseSchema } from '../common/api-schemas.js';
import type { Transport } from '../destinations/destination.js';
import { FORMATS } from '../destinations/formats.js';
import type { EndpointHealth } from './endpoint-health.js';
import type { WebhookFilters } from './filters.js';
import type { TransformHealthView } from './transform-health.js';
import type { WebhookView } from './webhook-view.js';
import type { WebhookDetail } from './webhooks.service.js';

const nullableIso = z.string().nullable();
const TRANSPORTS = ['http', 'amqp', 'nats', 'mqtt', 'redis', 'smtp'] as const satisfies readonly Transport[];

export const endpointHealthSchema = responseSchema<EndpointHealth>()(
  'EndpointHealth',
  z.object({
    state: z.enum(['healthy', 'failing', 'circuit_open', 'disabled']),
    consecutiveFailures: z.number().int(),
    lastSuccessAt: nullableIso,
    lastFailureAt: nullableIso,
    disabledAt: nullableIso,
    disabledReason: z.string().nullable(),
  }),
);

export const webhookViewSchema = responseSchema<WebhookView>()(
  'WebhookView',
  z.object({
    id: z.string(),
    url: z.string().describe('credentials masked (`amqp://guest:***@host/…`)'),
    transport: z.enum(TRANSPORTS),
    events: z.array(z.string()),
    headers: z.record(z.string(), z.string()),
    filters: opaque<WebhookFilters | null>({
      type: 'object',
      additionalProperties: true,
      nullable: true,
      description: 'conditions on `data`: see the create request',
    }),
    retry: z.object({ maxAttempts: z.number().int(), backoffMultiplier: z.number(), maxDelay: z.number() }),
    description: z.string(),
    enabled: z.boolean(),
    timeoutMs: z.number().int(),
    batch: z.object({ maxSize: z.number().int(), maxWaitMs: z.number().int() }).nullable(),
    transform: z.string().nullable(),
    circuitBreaker: z.object({ failureThreshold: z.number().int(), probeIntervalMs: z.number().int() }),
    autoDisable: z.object({ afterMs: z.number().int(), minFailures: z.number().int() }),
    rateLimit: z.object({ perSecond: z.number() }).nullable(),
    ordering: z.object({ key: z.string() }).nullable(),
    variants: z.array(z.object({ url: z.string(), weight: z.number() })).nullable(),
    paused: z.boolean(),
    health: endpointHealthSchema,
    format: z.enum(FORMATS),
    formatOptions: z
      .object({
        routingKey: z.string().optional(),
        source: z.string().optional(),
        severity: z.enum(['critical', 'error', 'warning', 'info']).optional(),
      })
      .nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  }),
);

const transformHealthSchema = responseSchema<TransformHealthView>()(
  'TransformHealth',
  z.object({ consecutiveFailures: z.number().int(), lastError: z.string().nullable(), lastFailureAt: nullableIso }),
);

export const webhookDetailSchema = responseSchema<WebhookDetail>()(
  'WebhookDetail',
  webhookViewSchema.extend({ transformHealth: transformHealthSchema }),
);

export const createdWebhookSchema = responseSchema<WebhookDetail & { secret: string }>()(
  'CreatedWebhook',
  webhookDetailSchema.extend({ secret: z.string().describe('shown only here (and by GET …/secret)') }),
);

export const webhookListSchema = responseSchema<{ webhooks: WebhookDetail[]; nextCursor: string | null }>()(
  'WebhookList',
  z.object({ webhooks: z.array(webhookDetailSchema), nextCursor: z.string().nullable() }),
);

export const webhookSecretSchema = responseSchema<{ secret: string; previousSecretExpiresAt: string | null }>()(
  'WebhookSecret',
  z.object({ secret: z.string(), previousSecretExpiresAt: nullableIso }),
);

export const rotatedSecretSchema = responseSchema<{ secret: string; previousSecretExpiresAt: string }>()(
  'RotatedSecret',
  z.object({ secret: z.string(), previousSecretExpiresAt: z.string() }),
);
