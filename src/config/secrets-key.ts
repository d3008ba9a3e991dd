import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { decodeSecretsKey, keyRing, SecretKeyError, type SecretKeyRing } from '../common/secret-box.js';
import type { AppConfig } from './config.js';

/**
 * The key ring of this configuration: SECRETS_KEY (+ SECRETS_KEY_PREVIOUS). Without SECRETS_KEY (never in production,
 * loadConfig refuses that) the key is read from `secretsKeyFile`, generated there on the first start.
 */
export function resolveSecretKeys(config: AppConfig): SecretKeyRing {
  const current = config.secretsKey ? decodeSecretsKey(config.secretsKey)! : developmentKey(config.secretsKeyFile);
  return keyRing(current, ...(config.secretsKeyPrevious ? [decodeSecretsKey(config.secretsKeyPrevious)!] : []));
}

function developmentKey(file: string): Buffer {
  const existing = readKeyFile(file);
  if (existing) return existing;
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  // Written whole under a temporary name, then linked into place: link fails if the file exists, so of several apps
  // starting at once on the same data folder exactly one key wins and nobody reads a half-written file.
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
  try {
    linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(tmp);
  }
  return readKeyFile(file)!;
}

function readKeyFile(file: string): Buffer | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const key = decodeSecretsKey(text);
  if (!key) throw new SecretKeyError(`${file} (the SECRETS_KEY used when SECRETS_KEY is unset) does not hold 32 bytes as base64 or hex`);
  return key;
}
