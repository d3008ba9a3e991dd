import { z } from 'zod';
import { responseSchema } from '../common/api-schemas.js';
import type { EventTypeView } from './event-types.service.js';

const jsonObject = z.record(z.string(), z.unknown());

export const eventTypeSchema = responseSchema<EventTypeView>()(
  'EventType',
  z.object({
    type: z.string(),
    category: z.string(),
    description: z.string(),
    schema: jsonObject.describe('JSON Schema (draft 2020-12) of `data`'),
    builtIn: z.boolean(),
    version: z.number().int(),
    examples: z.array(jsonObject).optional(),
    createdAt: z.string().optional(),
    updatedAt: z.string().optional(),
  }),
);

export const eventTypeListSchema = responseSchema<{ eventTypes: EventTypeView[] }>()(
  'EventTypeList',
  z.object({ eventTypes: z.array(eventTypeSchema) }),
);
