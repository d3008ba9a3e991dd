import { createHmac, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';

/** `whsec_<base64 of 24 random bytes>`: a Standard Webhooks secret. */
export function generateSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

/** HMAC keys of one secret: the Humana signature keys on the UTF-8 secret, Standard Webhooks on the decoded `whsec_` part. */
export interface SigningKey {
  humana: KeyObject;
  standard: KeyObject;
}

export function signingKey(secret: string): SigningKey {
  const standard = secret.startsWith('whsec_') ? Buffer.from(secret.slice('whsec_'.length), 'base64') : Buffer.from(secret, 'utf8');
  return { humana: createSecretKey(Buffer.from(secret, 'utf8')), standard: createSecretKey(standard) };
}

export interface Signatures {
  /** `X-Humana-Signature`: lowercase hex HMAC-SHA256 of `${timestamp}.${body}` (the current secret only). */
  humana: string;
  /** `webhook-signature`: `v1,<base64>` per key, space-separated (current first, then a rotated-out one still valid). */
  standard: string;
}

/** keys[0] is the current secret; more keys only during a rotation's grace period. */
export function sign(keys: readonly SigningKey[], messageId: string, timestamp: number, body: string): Signatures {
  // Prefix and body fed separately: no copy of the body per signature.
  const humana = createHmac('sha256', keys[0].humana).update(`${timestamp}.`).update(body).digest('hex');
  const prefix = `${messageId}.${timestamp}.`;
  const standard = keys.map((k) => `v1,${createHmac('sha256', k.standard).update(prefix).update(body).digest('base64')}`).join(' ');
  return { humana, standard };
}
