import type { z } from 'zod';
import { ApiError, type ErrorDetail } from './api-error.js';

export function issuesToDetails(issues: readonly z.core.$ZodIssue[], prefix = ''): ErrorDetail[] {
  return issues.map((i) => {
    const field = [prefix, ...i.path.map(String)].filter(Boolean).join('.');
    return { field: field || '(root)', message: i.message, code: i.code };
  });
}

export function detailsMessage(details: ErrorDetail[]): string {
  return details.map((d) => `${d.field}: ${d.message}`).join('; ');
}

/** Parses input with a zod schema or throws a 400 naming every failing field (415 when a required body is absent). */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, prefix = ''): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  if (input === undefined && !prefix) throw ApiError.jsonBodyRequired();
  const details = issuesToDetails(r.error.issues, prefix);
  throw ApiError.badRequest(detailsMessage(details), details);
}
