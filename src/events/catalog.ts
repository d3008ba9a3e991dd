import { z } from 'zod';

/**
 * The event catalog: one zod schema per seed event type. The TypeScript types (EventDataMap),
 * the runtime validation and the published JSON Schemas all derive from these objects.
 * Objects are open (extra fields pass through) so producers can add context without a schema change;
 * seed-declared fields are checked for presence, type and enum values.
 */
const id = z.string().min(1).max(256);
/** Optional on input: the server fills in the publish time when absent (so the published JSON Schemas do not require it). */
const timestamp = z.iso.datetime({ offset: true }).optional().describe('ISO-8601; set to the publish time when absent');
const record = z.record(z.string(), z.unknown());
const nonNegative = z.number().nonnegative();

const ev = <T extends z.ZodRawShape>(description: string, shape: T) => z.looseObject({ ...shape, timestamp }).describe(description);

export const eventSchemas = {
  'companion.created': ev('A companion was created.', {
    companionId: id,
    name: z.string().min(1),
    organizationId: id,
    config: record,
    createdBy: id,
  }),
  'companion.updated': ev('A companion configuration changed.', {
    companionId: id,
    changes: record,
    updatedBy: id,
  }),
  'companion.deleted': ev('A companion was deleted.', {
    companionId: id,
    name: z.string().min(1),
    deletedBy: id,
  }),
  'companion.activated': ev('A companion became active.', {
    companionId: id,
    previousStatus: z.string(),
  }),
  'companion.deactivated': ev('A companion was deactivated.', {
    companionId: id,
    reason: z.string(),
  }),
  'message.sent': ev('A user sent a message to a companion.', {
    messageId: id,
    companionId: id,
    userId: id,
    content: z.string(),
    type: z.enum(['text', 'image', 'file', 'structured']),
    metadata: record,
  }),
  'message.received': ev('A companion answered a message.', {
    messageId: id,
    companionId: id,
    userId: id,
    response: z.string(),
    processingTime: nonNegative,
    tokensUsed: z.number().int().nonnegative(),
  }),
  'chat.started': ev('A chat session started.', {
    sessionId: id,
    companionId: id,
    userId: id,
    context: record,
  }),
  'chat.ended': ev('A chat session ended.', {
    sessionId: id,
    companionId: id,
    userId: id,
    duration: nonNegative,
    messageCount: z.number().int().nonnegative(),
  }),
  'stream.started': ev('A streamed answer started.', {
    streamId: id,
    companionId: id,
    userId: id,
  }),
  'stream.chunk': ev('A chunk of a streamed answer.', {
    streamId: id,
    chunkId: id,
    content: z.string(),
    isComplete: z.boolean(),
  }),
  'error.occurred': ev('An error occurred.', {
    errorId: id,
    type: z.enum(['validation', 'processing', 'integration', 'rate_limit']),
    message: z.string(),
    companionId: id.optional(),
    userId: id.optional(),
    severity: z.enum(['low', 'medium', 'high', 'critical']),
  }),
  'performance.degraded': ev('A service metric crossed its threshold.', {
    service: z.string().min(1),
    metric: z.string().min(1),
    value: z.number(),
    threshold: z.number(),
  }),
  'quota.warning': ev('Usage reached a warning level of a quota.', {
    organizationId: id,
    metric: z.string().min(1),
    current: nonNegative,
    limit: nonNegative,
    percentage: nonNegative,
  }),
  'quota.exceeded': ev('Usage exceeded a quota.', {
    organizationId: id,
    metric: z.string().min(1),
    limit: nonNegative,
    action: z.enum(['throttled', 'blocked']),
  }),
  'usage.recorded': ev('Resource usage was recorded.', {
    organizationId: id,
    companionId: id,
    userId: id,
    action: z.string().min(1),
    duration: nonNegative,
    resources: record,
  }),
  'metrics.collected': ev('Performance metrics were collected for a companion.', {
    organizationId: id,
    companionId: id,
    metrics: z.looseObject({
      responseTime: nonNegative,
      throughput: nonNegative,
      errorRate: nonNegative,
      satisfactionScore: z.number().optional(),
    }),
  }),
  'insight.generated': ev('An analytics insight was generated.', {
    organizationId: id,
    type: z.enum(['trend', 'anomaly', 'recommendation']),
    data: record,
    confidence: z.number().min(0).max(1),
  }),
} as const;

export type EventType = keyof typeof eventSchemas;
export type EventDataMap = { [K in EventType]: z.output<(typeof eventSchemas)[K]> };

export const EVENT_TYPES = Object.keys(eventSchemas) as EventType[];

export function isEventType(t: unknown): t is EventType {
  return typeof t === 'string' && Object.prototype.hasOwnProperty.call(eventSchemas, t);
}

export interface EventTypeDescription {
  type: EventType;
  category: string;
  description: string;
  schema: Record<string, unknown>;
}

export function describeEventTypes(): EventTypeDescription[] {
  return EVENT_TYPES.map((type) => {
    const schema = eventSchemas[type];
    return {
      type,
      category: type.split('.')[0],
      description: schema.description ?? type,
      schema: z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>,
    };
  });
}

/** A valid example payload per type (tests and the bench; the console derives its examples from the JSON Schemas). */
export const exampleEvents: { [K in EventType]: Omit<EventDataMap[K], 'timestamp'> } = {
  'companion.created': { companionId: 'comp-123', name: 'Ava', organizationId: 'org-1', config: { model: 'gpt' }, createdBy: 'user-1' },
  'companion.updated': { companionId: 'comp-123', changes: { name: 'Ava 2' }, updatedBy: 'user-1' },
  'companion.deleted': { companionId: 'comp-123', name: 'Ava', deletedBy: 'user-1' },
  'companion.activated': { companionId: 'comp-123', previousStatus: 'inactive' },
  'companion.deactivated': { companionId: 'comp-123', reason: 'billing' },
  'message.sent': { messageId: 'msg-1', companionId: 'comp-123', userId: 'user-789', content: 'Hello', type: 'text', metadata: {} },
  'message.received': {
    messageId: 'msg-2',
    companionId: 'comp-123',
    userId: 'user-789',
    response: 'Hi!',
    processingTime: 150,
    tokensUsed: 25,
  },
  'chat.started': { sessionId: 'sess-1', companionId: 'comp-123', userId: 'user-789', context: {} },
  'chat.ended': { sessionId: 'sess-1', companionId: 'comp-123', userId: 'user-789', duration: 120, messageCount: 8 },
  'stream.started': { streamId: 'str-1', companionId: 'comp-123', userId: 'user-789' },
  'stream.chunk': { streamId: 'str-1', chunkId: 'chk-1', content: 'Hel', isComplete: false },
  'error.occurred': { errorId: 'err-1', type: 'processing', message: 'Model timeout', severity: 'high' },
  'performance.degraded': { service: 'delivery', metric: 'p95_latency_ms', value: 250, threshold: 100 },
  'quota.warning': { organizationId: 'org-1', metric: 'events_per_month', current: 80, limit: 100, percentage: 80 },
  'quota.exceeded': { organizationId: 'org-1', metric: 'events_per_month', limit: 100, action: 'blocked' },
  'usage.recorded': {
    organizationId: 'org-1',
    companionId: 'comp-123',
    userId: 'user-789',
    action: 'chat',
    duration: 30,
    resources: { tokens: 100 },
  },
  'metrics.collected': {
    organizationId: 'org-1',
    companionId: 'comp-123',
    metrics: { responseTime: 120, throughput: 10, errorRate: 0.01 },
  },
  'insight.generated': { organizationId: 'org-1', type: 'trend', data: { metric: 'messages' }, confidence: 0.9 },
};
