import { DynamicModule, Module, RequestMethod, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { hasApi, type AppConfig } from '../config/config.js';
import { loadConsoleFiles } from './console-files.js';
import { CONSOLE_FILES, ConsoleMiddleware } from './console.middleware.js';

/** The operator console (admin/) as static files at /admin; API role only. */
@Module({})
export class AdminConsoleModule implements NestModule {
  static forRoot(config: AppConfig): DynamicModule {
    if (!hasApi(config)) return { module: AdminConsoleModule };
    return { module: AdminConsoleModule, providers: [{ provide: CONSOLE_FILES, useFactory: () => loadConsoleFiles() }, ConsoleMiddleware] };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(ConsoleMiddleware).forRoutes({ path: 'admin', method: RequestMethod.GET }, { path: 'admin/*path', method: RequestMethod.GET });
  }
}
