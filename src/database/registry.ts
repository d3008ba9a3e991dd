import { ApiKey } from '../auth/api-key.entity.js';
import { Organization } from '../auth/organization.entity.js';
import { EventRecord } from '../events/event-record.entity.js';
import { AuditEntry } from '../audit/audit-entry.entity.js';
import { Webhook } from '../webhooks/webhook.entity.js';
import { Delivery } from '../delivery/delivery.entity.js';
import { DlqEntry } from '../delivery/dlq-entry.entity.js';
import { Foundation1764374400000 } from './migrations/0001-foundation.js';
import { AuditLog1764374500000 } from './migrations/0002-audit-log.js';
import { Webhooks1764374600000 } from './migrations/0003-webhooks.js';

/** Every entity and migration of the app: each module adds its own here. */
export const ENTITIES = [Organization, ApiKey, EventRecord, AuditEntry, Webhook, Delivery, DlqEntry];
export const MIGRATIONS = [Foundation1764374400000, AuditLog1764374500000, Webhooks1764374600000];
