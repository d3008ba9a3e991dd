import type { Scope } from './scopes.js';

/** Who is calling: resolved from the API key on every request, socket and stream. */
export interface Principal {
  organizationId: string;
  keyId: string;
  scopes: ReadonlySet<Scope>;
}
