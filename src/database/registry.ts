import { ApiKey } from '../auth/api-key.entity.js';
import { Organization } from '../auth/organization.entity.js';
import { EventRecord } from '../events/event-record.entity.js';
import { AuditEntry } from '../audit/audit-entry.entity.js';
import { Foundation1764374400000 } from './migrations/0001-foundation.js';
import { AuditLog1764374500000 } from './migrations/0002-audit-log.js';

/** Every entity and migration of the app: each module adds its own here. */
export const ENTITIES = [Organization, ApiKey, EventRecord, AuditEntry];
export const MIGRATIONS = [Foundation1764374400000, AuditLog1764374500000];
