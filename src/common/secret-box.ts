import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { ValueTransformer } from 'typeorm';

/**
 * Encryption at rest of stored secrets and credentials: AES-256-GCM into `enc:v1:<keyId>:<base64(iv|ciphertext|tag)>`.
 * The key id (first 8 hex chars of SHA-256 of the key) names the key that sealed a value, so during a rotation the
 * right key is picked and a value sealed with an unknown key is reported as such instead of failing as "corrupt".
 */

const PREFIX = 'enc:v1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface SecretKey {
  id: string;
  key: Buffer;
}

/** The key new values are sealed with, and every key values may be opened with (the current one included). */
export interface SecretKeyRing {
  current: SecretKey;
  byId: ReadonlyMap<string, SecretKey>;
}

export class SecretKeyError extends Error {}

/** 32 bytes given as 64 hex characters or as base64 (standard or URL-safe); null when it is neither. */
export function decodeSecretsKey(text: string): Buffer | null {
  const t = text.trim();
  if (/^[0-9a-f]{64}$/i.test(t)) return Buffer.from(t, 'hex');
  if (!/^[A-Za-z0-9+/_-]{43}=?$/.test(t)) return null;
  const key = Buffer.from(t, 'base64'); // Node's base64 decoder also reads the URL-safe alphabet
  return key.length === 32 ? key : null;
}

export function secretKey(key: Buffer): SecretKey {
  return { id: createHash('sha256').update(key).digest('hex').slice(0, 8), key };
}

export function keyRing(current: Buffer, ...previous: Buffer[]): SecretKeyRing {
  const cur = secretKey(current);
  const byId = new Map([[cur.id, cur]]);
  for (const p of previous.map(secretKey)) {
    if (byId.has(p.id) && !byId.get(p.id)!.key.equals(p.key))
      throw new SecretKeyError(`two different secret keys share the key id ${p.id}`);
    byId.set(p.id, p);
  }
  return { current: cur, byId };
}

/** The key id of a sealed value; null for a value stored before encryption (plaintext). */
export function secretKeyIdOf(stored: string): string | null {
  if (!stored.startsWith(PREFIX)) return null;
  return stored.slice(PREFIX.length, stored.indexOf(':', PREFIX.length));
}

/**
 * The process-wide ring the column transformer uses. TypeORM transformers are plain objects created when entity
 * decorators run (module load), outside dependency injection, so they cannot be handed the configuration: bootstrap
 * installs the keys here before the database is opened. Installed keys are never forgotten, so several apps in one
 * process (tests) can still open each other's values; the last installed current key seals.
 */
let installed: { current: SecretKey; byId: Map<string, SecretKey> } | undefined;

export function installSecretKeys(ring: SecretKeyRing): void {
  const byId = new Map(installed?.byId);
  for (const [id, k] of ring.byId) byId.set(id, k);
  installed = { current: ring.current, byId };
}

function processRing(): SecretKeyRing {
  if (!installed)
    throw new SecretKeyError('secret keys are not installed (installSecretKeys runs at bootstrap, before the database opens)');
  return installed;
}

export function encryptSecret(plaintext: string, ring: SecretKeyRing = processRing()): string {
  const iv = randomBytes(IV_BYTES);
  const header = `${PREFIX}${ring.current.id}:`;
  const cipher = createCipheriv('aes-256-gcm', ring.current.key, iv);
  cipher.setAAD(Buffer.from(header));
  const body = Buffer.concat([iv, cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return header + body.toString('base64');
}

/** Opens a sealed value; a value without the `enc:v1:` prefix is plaintext from before encryption and returned as is. */
export function decryptSecret(stored: string, ring: SecretKeyRing = processRing()): string {
  const keyId = secretKeyIdOf(stored);
  if (keyId === null) return stored;
  const key = ring.byId.get(keyId);
  if (!key) throw new SecretKeyError(`sealed with key ${keyId}, which is not configured`);
  const header = `${PREFIX}${keyId}:`;
  const body = Buffer.from(stored.slice(header.length), 'base64');
  if (body.length < IV_BYTES + TAG_BYTES) throw new SecretKeyError(`sealed with key ${keyId} but truncated`);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.key, body.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(header));
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    return Buffer.concat([decipher.update(body.subarray(IV_BYTES, body.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    throw new SecretKeyError(`sealed with key ${keyId} but fails authentication (corrupted, or another key with that id)`);
  }
}

/**
 * Column transformer: entities hold plaintext in memory, SQL holds only sealed values. Columns using it are also
 * found (by identity) and re-sealed by the startup pass (src/database/secret-columns.ts).
 */
export const secretTransformer: ValueTransformer = {
  to: (value: string | null | undefined) => (value == null ? value : encryptSecret(value)),
  from: (value: string | null) => (value == null ? value : decryptSecret(value)),
};

/** JSON in a `text` column, for a value sealed as a whole: `[jsonText, secretTransformer]` (TypeORM applies `to` in order). */
export const jsonText: ValueTransformer = {
  to: (value: unknown) => (value == null ? value : JSON.stringify(value)),
  from: (value: string | null) => (value == null ? value : (JSON.parse(value) as unknown)),
};
