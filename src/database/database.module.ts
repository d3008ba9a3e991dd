import { type DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import pg from 'pg';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { installSecretKeys, SecretKeyError, type SecretKeyRing } from '../common/secret-box.js';
import type { AppConfig } from '../config/config.js';
import { resolveSecretKeys } from '../config/secrets-key.js';
import { dataSourceOptions } from './data-source-options.js';
import { resealSecretColumns } from './secret-columns.js';

/** Creates the Postgres schema named in `?schema=` (tests use one per app) before migrations run in it. */
async function ensurePgSchema(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const schema = url.searchParams.get('schema');
  if (!schema) return;
  if (!/^[a-z_][a-z0-9_]*$/i.test(schema)) throw new Error(`invalid schema name "${schema}"`);
  url.searchParams.delete('schema');
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  } finally {
    await client.end();
  }
}

function describeKeys(config: AppConfig, ring: SecretKeyRing): string {
  const current = `SECRETS_KEY is ${ring.current.id}${config.secretsKey ? '' : ` (unset: generated key read from ${config.secretsKeyFile})`}`;
  const previous = [...ring.byId.keys()].filter((id) => id !== ring.current.id);
  return `${current}, SECRETS_KEY_PREVIOUS ${previous.length ? `is ${previous.join(', ')}` : 'is unset'}`;
}

/** Opens the database (migrations run), then the secret-column pass, before any feature can read a row. */
async function openDataSource(options: DataSourceOptions, config: AppConfig): Promise<DataSource> {
  const ring = resolveSecretKeys(config);
  installSecretKeys(ring);
  const ds = await new DataSource(options).initialize();
  try {
    await resealSecretColumns(ds, ring, describeKeys(config, ring));
  } catch (err) {
    await ds.destroy();
    throw err;
  }
  return ds;
}

@Module({})
export class DatabaseModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          useFactory: async () => {
            if (!config.databaseUrl.startsWith('sqlite:')) await ensurePgSchema(config.databaseUrl);
            return {
              ...dataSourceOptions(config.databaseUrl),
              autoLoadEntities: true,
              retryAttempts: 2,
              retryDelay: 500,
              // A key that cannot open the stored secrets stays wrong however often we retry.
              toRetry: (err: unknown) => !(err instanceof SecretKeyError),
            };
          },
          // TypeORM's own factory would not run the pass; the secret keys come from the config, not from DI.
          dataSourceFactory: (options) => openDataSource(options!, config),
        }),
      ],
    };
  }
}
