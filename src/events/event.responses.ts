import { z } from 'zod';
import { opaque, responseSchema } from '../common/api-schemas.js';
import type { EventType } from './catalog.js';
import type { EventEnvelope } from './envelope.js';
import type { HistoryPage } from './history.service.js';

export const eventEnvelopeSchema = responseSchema<EventEnvelope>()(
  'EventEnvelope',
  z.object({
    id: z.string(),
    type: opaque<EventType>({ type: 'string', description: "a built-in type or one of the organization's own" }),
    organizationId: z.string(),
    timestamp: z.string(),
    data: z.record(z.string(), z.unknown()),
  }),
);

export const historyPageSchema = responseSchema<HistoryPage>()(
  'HistoryPage',
  z.object({ events: z.array(eventEnvelopeSchema), nextCursor: z.string().nullable() }),
);
