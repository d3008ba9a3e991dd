import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import { Foundation1764374400000 } from './migrations/0001-foundation.js';
import { AuditLog1764374500000 } from './migrations/0002-audit-log.js';
import { Webhooks1764374600000 } from './migrations/0003-webhooks.js';
import { SealedWebhookSecrets1764374700000 } from './migrations/0004-sealed-webhook-secrets.js';
import { EventTypes1764374800000 } from './migrations/0005-event-types.js';
import { DeliveryEngine1764374900000 } from './migrations/0006-delivery-engine.js';
import { WebhookFormat1764375000000 } from './migrations/0009-webhook-format.js';
import { AuditScope1764375100000 } from './migrations/0007-audit-scope.js';
import { WebhookCreatedPosition1764375200000 } from './migrations/0008-webhook-created-position.js';
import { DestinationUrls1764375300000 } from './migrations/0010-destination-urls.js';
import { DeliveriesByEvent1764375400000 } from './migrations/0011-deliveries-by-event.js';

/** The schema's history, oldest first: each capability adds its migration here. */
const MIGRATIONS = [
  Foundation1764374400000,
  AuditLog1764374500000,
  Webhooks1764374600000,
  SealedWebhookSecrets1764374700000,
  EventTypes1764374800000,
  DeliveryEngine1764374900000,
  WebhookFormat1764375000000,
  AuditScope1764375100000,
  WebhookCreatedPosition1764375200000,
  DestinationUrls1764375300000,
  DeliveriesByEvent1764375400000,
];

/**
 * `sqlite:<file>` → better-sqlite3 (WAL); `postgres://…[?schema=s]` → pg. Schema always through migrations, run once
 * at start-up under a database lock by prepareDatabase() (never by TypeORM on connect); entities come from the
 * features' `TypeOrmModule.forFeature` (autoLoadEntities), so this module knows none of them.
 */
export function dataSourceOptions(databaseUrl: string): DataSourceOptions {
  const common = { migrations: MIGRATIONS, migrationsRun: false, synchronize: false, logging: false } as const;
  if (databaseUrl.startsWith('sqlite:')) {
    const file = databaseUrl.slice('sqlite:'.length);
    if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    return {
      ...common,
      type: 'better-sqlite3',
      database: file,
      prepareDatabase: (db: { pragma(s: string): unknown }) => {
        db.pragma('busy_timeout = 5000'); // first: switching to WAL waits for other processes opening the file
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
      },
    };
  }
  const url = new URL(databaseUrl);
  url.searchParams.delete('schema');
  return { ...common, type: 'postgres', url: url.toString(), schema: postgresSchema(databaseUrl), extra: { max: 10 } };
}

/** The `?schema=` of a Postgres URL (tests use one per app), checked as an identifier. */
export function postgresSchema(databaseUrl: string): string | undefined {
  const schema = new URL(databaseUrl).searchParams.get('schema') ?? undefined;
  if (schema !== undefined && !/^[a-z_][a-z0-9_]*$/i.test(schema)) throw new Error(`invalid schema name "${schema}" in DATABASE_URL`);
  return schema;
}

export function isSqlite(databaseUrl: string): boolean {
  return databaseUrl.startsWith('sqlite:');
}
