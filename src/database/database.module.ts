import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { dataSourceOptions } from './data-source-options.js';

/**
 * The app's connections. Start-up (prepareDatabase) has already waited for the database and migrated it, so a failure
 * here is reported at once instead of being retried with a stack trace per attempt.
 */
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({ ...dataSourceOptions(config.databaseUrl), autoLoadEntities: true, toRetry: () => false }),
    }),
  ],
})
export class DatabaseModule {}
