import { ApiKey } from '../auth/api-key.entity.js';
import { Organization } from '../auth/organization.entity.js';
import { EventRecord } from '../events/event-record.entity.js';
import { Foundation1764374400000 } from './migrations/0001-foundation.js';

/** Every entity and migration of the app: each module adds its own here. */
export const ENTITIES = [Organization, ApiKey, EventRecord];
export const MIGRATIONS = [Foundation1764374400000];
