import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import { Foundation1764374400000 } from './migrations/0001-foundation.js';
import { AuditLog1764374500000 } from './migrations/0002-audit-log.js';
import { Webhooks1764374600000 } from './migrations/0003-webhooks.js';
import { WebhookFormat1764374700000 } from './migrations/0004-webhook-format.js';

/** The schema's history, oldest first: each capability adds its migration here. */
const MIGRATIONS = [Foundation1764374400000, AuditLog1764374500000, Webhooks1764374600000, WebhookFormat1764374700000];

/**
 * `sqlite:<file>` → better-sqlite3 (WAL); `postgres://…[?schema=s]` → pg. Schema always through migrations; entities
 * come from the features' `TypeOrmModule.forFeature` (autoLoadEntities), so this module knows none of them.
 */
export function dataSourceOptions(databaseUrl: string): DataSourceOptions {
  const common = { migrations: MIGRATIONS, migrationsRun: true, synchronize: false, logging: false } as const;
  if (databaseUrl.startsWith('sqlite:')) {
    const file = databaseUrl.slice('sqlite:'.length);
    if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    return {
      ...common,
      type: 'better-sqlite3',
      database: file,
      prepareDatabase: (db: { pragma(s: string): unknown }) => {
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
        db.pragma('busy_timeout = 5000');
      },
    };
  }
  const url = new URL(databaseUrl);
  const schema = url.searchParams.get('schema') ?? undefined;
  url.searchParams.delete('schema');
  return { ...common, type: 'postgres', url: url.toString(), schema, extra: { max: 10 } };
}

export function isSqlite(databaseUrl: string): boolean {
  return databaseUrl.startsWith('sqlite:');
}
