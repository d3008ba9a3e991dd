import { z } from 'zod';
import type { CreatedKey } from '../auth/auth.service.js';
import type { Organization } from '../auth/organization.entity.js';
import { SCOPES } from '../auth/scopes.js';
import { responseSchema } from '../common/api-schemas.js';

export type OrganizationView = Pick<Organization, 'id' | 'name' | 'limits' | 'createdAt'>;

const limits = z.record(z.string(), z.number()).describe('a missing limit means unlimited');

export const organizationSchema = responseSchema<OrganizationView>()(
  'Organization',
  z.object({ id: z.string(), name: z.string(), limits, createdAt: z.string() }),
);

export const organizationListSchema = responseSchema<{ organizations: OrganizationView[] }>()(
  'OrganizationList',
  z.object({ organizations: z.array(organizationSchema) }),
);

export const createdOrganizationSchema = responseSchema<Omit<OrganizationView, 'limits'>>()(
  'CreatedOrganization',
  organizationSchema.omit({ limits: true }),
);

export const organizationLimitsSchema = responseSchema<Pick<Organization, 'id' | 'limits'>>()(
  'OrganizationLimits',
  organizationSchema.pick({ id: true, limits: true }),
);

export const createdKeySchema = responseSchema<CreatedKey>()(
  'CreatedKey',
  z.object({
    id: z.string(),
    key: z.string().describe('shown only here'),
    organizationId: z.string(),
    name: z.string(),
    scopes: z.array(z.enum(SCOPES)),
  }),
);
