import { z } from 'zod';
import { responseSchema } from '../common/api-schemas.js';
import type { AuditPage } from './audit.service.js';

const snapshot = z.record(z.string(), z.unknown()).nullable().describe('secrets removed, header values and URL credentials masked');

export const auditPageSchema = responseSchema<AuditPage>()(
  'AuditPage',
  z.object({
    entries: z.array(
      z.object({
        id: z.string(),
        organizationId: z.string(),
        actor: z.string().describe('an API key id, or "admin"'),
        action: z.string(),
        resourceId: z.string().nullable(),
        before: snapshot,
        after: snapshot,
        timestamp: z.string(),
      }),
    ),
    nextCursor: z.string().nullable(),
  }),
);
