import type { Type } from '@nestjs/common';
import type { ModuleRef } from '@nestjs/core';

/** A provider of another module that is only loaded in some roles (real-time in the API, delivery log everywhere). */
export function optionalProvider<T>(moduleRef: ModuleRef, type: Type<T>): T | null {
  try {
    return moduleRef.get(type, { strict: false });
  } catch {
    return null;
  }
}
