import { type DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { installSecretKeys, type SecretKeyRing } from '../common/secret-box.js';
import type { AppConfig } from '../config/config.js';
import { resolveSecretKeys } from '../config/secrets-key.js';
import { dataSourceOptions } from './data-source-options.js';
import { resealSecretColumns } from './secret-columns.js';

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

/**
 * The app's connections. Start-up (prepareDatabase) has already waited for the database and migrated it under a lock,
 * so a failure here is reported at once instead of being retried with a stack trace per attempt.
 */
@Module({})
export class DatabaseModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          useFactory: () => ({ ...dataSourceOptions(config.databaseUrl), autoLoadEntities: true, toRetry: () => false }),
          // TypeORM's own factory would not run the pass; the secret keys come from the config, not from DI.
          dataSourceFactory: (options) => openDataSource(options!, config),
        }),
      ],
    };
  }
}
