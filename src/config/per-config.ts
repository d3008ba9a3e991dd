import type { DynamicModule } from '@nestjs/common';
import type { AppConfig } from './config.js';

/**
 * Nest tells dynamic modules apart by object identity: a `forRoot(config)` that several modules import must return
 * the same object each time, or each importer gets its own copy of the module's providers.
 */
export function perConfig(build: (config: AppConfig) => DynamicModule): (config: AppConfig) => DynamicModule {
  const built = new WeakMap<AppConfig, DynamicModule>();
  return (config) => {
    let module = built.get(config);
    if (!module) built.set(config, (module = build(config)));
    return module;
  };
}
