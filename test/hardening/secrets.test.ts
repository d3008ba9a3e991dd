import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startApp } from '../../src/bootstrap.js';
import { decodeSecretsKey, decryptSecret, encryptSecret, keyRing, SecretKeyError, secretKeyIdOf } from '../../src/common/secret-box.js';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { resolveSecretKeys } from '../../src/config/secrets-key.js';
import {
  createTestDatabase,
  databases,
  spawnApp,
  startTestApp,
  type DbKind,
  type TestApp,
  type TestDatabase,
} from '../support/launcher.js';
import { startPrivateRedis, type PrivateRedis } from '../support/redis.js';
import { assertSigned, hookFor, publish, until, type Hook } from '../webhooks/fixtures.js';
import { Receiver } from '../support/receiver.js';
import { insertPlaintextWebhook, openRaw } from '../support/raw-db.js';

const newKey = () => randomBytes(32);
const keyIdOf = (key: Buffer) => createHash('sha256').update(key).digest('hex').slice(0, 8);

async function storedSecrets(databaseUrl: string, id: string): Promise<{ secret: string; previous: string | null }> {
  const raw = await openRaw(databaseUrl);
  try {
    const [row] = await raw.query('SELECT secret, previous_secret FROM webhooks WHERE id = ?', [id]);
    return { secret: row.secret as string, previous: row.previous_secret as string | null };
  } finally {
    await raw.close();
  }
}

function assertSealed(stored: string | null, keyId: string, ...plaintexts: string[]): void {
  assert.ok(stored, 'a stored value');
  assert.ok(stored.startsWith(`enc:v1:${keyId}:`), `sealed with key ${keyId}: ${stored.slice(0, 20)}…`);
  for (const p of plaintexts) assert.ok(!stored.includes(p), 'the plaintext is not in the column');
}

/** One delivery of a fresh event to the hook, verified with its plaintext secret(s) as a receiver would. */
async function assertDelivers(app: TestApp, rx: Receiver, hook: Hook, secret: string, extraSecrets: string[] = []): Promise<void> {
  const event = await publish(app, hook.org, 'message.sent');
  const got = await until(() => rx.at(hook.path).find((r) => r.headers['webhook-id'] === event.id));
  assertSigned(got, secret, { eventId: event.id, eventType: 'message.sent' }, extraSecrets);
}

/** `node dist/src/main.js` that is expected to refuse to start: its exit code and stderr. */
/** Starts the app as `npm start` does, expecting it to exit; returns its exit code and its fatal log line. */
async function failedStart(env: Record<string, string>): Promise<{ code: number | null; fatal: string }> {
  const app = await spawnApp({ LOG_LEVEL: 'fatal', ...env }, { waitForStart: false });
  const { code } = await app.exited;
  const fatal = app.lines.map((l) => JSON.parse(l) as { level: string; msg: string }).find((l) => l.level === 'fatal');
  return { code, fatal: fatal?.msg ?? app.logTail() };
}

test('secret box: AES-256-GCM in enc:v1:<keyId>:…, key id = SHA-256 prefix, tampering and unknown keys refused', () => {
  const k1 = newKey();
  const k2 = newKey();
  const ring1 = keyRing(k1);
  const sealed = encryptSecret('whsec_plaintext', ring1);
  assert.match(sealed, /^enc:v1:[0-9a-f]{8}:[A-Za-z0-9+/]+=*$/);
  assert.equal(secretKeyIdOf(sealed), keyIdOf(k1));
  assert.notEqual(encryptSecret('whsec_plaintext', ring1), sealed, 'a fresh IV every time');
  assert.equal(decryptSecret(sealed, ring1), 'whsec_plaintext');
  assert.equal(decryptSecret(sealed, keyRing(k2, k1)), 'whsec_plaintext', 'a previous key still opens');
  assert.equal(secretKeyIdOf(encryptSecret('x', keyRing(k2, k1))), keyIdOf(k2), 'the current key seals');
  assert.throws(
    () => decryptSecret(sealed, keyRing(k2)),
    (e) => e instanceof SecretKeyError && e.message.includes(keyIdOf(k1)),
  );
  const body = Buffer.from(sealed.split(':')[3], 'base64');
  body[20] ^= 1;
  assert.throws(() => decryptSecret(`enc:v1:${keyIdOf(k1)}:${body.toString('base64')}`, ring1), SecretKeyError);
  assert.equal(decryptSecret('legacy-plaintext', ring1), 'legacy-plaintext', 'plaintext from before encryption passes');
  assert.deepEqual(decodeSecretsKey(k1.toString('hex')), k1);
  assert.deepEqual(decodeSecretsKey(k1.toString('base64')), k1);
  assert.deepEqual(decodeSecretsKey(k1.toString('base64url')), k1);
  assert.equal(decodeSecretsKey(randomBytes(16).toString('base64')), null);
});

test('config: SECRETS_KEY is validated, required in production; the development key file follows the database', async () => {
  assert.throws(
    () => loadConfig({ NODE_ENV: 'production' }),
    (e) => e instanceof ConfigError && /SECRETS_KEY: required when NODE_ENV=production/.test(e.message) && !e.message.includes('\n'),
  );
  await assert.rejects(startApp({ NODE_ENV: 'production', PORT: '0', REDIS_URL: 'redis://127.0.0.1:1' }), /SECRETS_KEY/);
  assert.throws(() => loadConfig({ SECRETS_KEY: 'too-short' }), /SECRETS_KEY: must be 32 bytes as base64 or 64 hex/);
  assert.throws(() => loadConfig({ SECRETS_KEY: newKey().toString('hex'), SECRETS_KEY_PREVIOUS: 'nope' }), /SECRETS_KEY_PREVIOUS: must be/);
  assert.equal(loadConfig({ NODE_ENV: 'production', SECRETS_KEY: newKey().toString('base64') }).nodeEnv, 'production');
  assert.equal(loadConfig({}).secretsKeyFile, path.join('.data', 'secrets.key'));
  assert.equal(loadConfig({ DATABASE_URL: 'sqlite:/tmp/a/b.sqlite' }).secretsKeyFile, '/tmp/a/secrets.key');
  assert.equal(loadConfig({ DATABASE_URL: 'postgres://x/y', SECRETS_KEY_FILE: '/etc/k' }).secretsKeyFile, '/etc/k');
  const dir = mkdtempSync(path.join(tmpdir(), 'humana-key-'));
  try {
    const config = loadConfig({ DATABASE_URL: `sqlite:${path.join(dir, 'nested', 'db.sqlite')}` });
    const [a, b] = [resolveSecretKeys(config), resolveSecretKeys(config)];
    assert.equal(a.current.id, b.current.id, 'generated once, then reused');
    assert.equal(statSync(path.join(dir, 'nested', 'secrets.key')).mode & 0o777, 0o600);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

for (const kind of databases()) {
  describe(`webhook secrets at rest (${kind})`, () => {
    let redis: PrivateRedis;
    let db: TestDatabase;
    let rx: Receiver;
    let app: TestApp | undefined;
    const k1 = newKey();
    const k2 = newKey();
    let hook: Hook;
    let rotated: string;
    let legacy: Hook;
    const legacySecret = `whsec_${randomBytes(24).toString('base64')}`;

    const start = async (env: Record<string, string>) => {
      app = await startTestApp({ redis, databaseUrl: db.url, env });
      return app;
    };
    const stop = async () => {
      await app?.stop();
      app = undefined;
    };

    before(async () => {
      redis = await startPrivateRedis();
      db = createTestDatabase(kind as DbKind);
      rx = await Receiver.start();
    });
    after(async () => {
      await stop();
      await rx.close();
      await db.drop();
      await redis.destroy();
    });

    test('a created webhook: SQL holds only the sealed secret, deliveries verify with the plaintext', async () => {
      const a = await start({ SECRETS_KEY: k1.toString('base64') });
      hook = await hookFor(a, rx.url, { events: ['message.*'] });
      const stored = await storedSecrets(db.url, hook.id);
      assertSealed(stored.secret, keyIdOf(k1), hook.secret, hook.secret.slice('whsec_'.length));
      assert.equal(stored.previous, null);
      const read = await a.http.get(`/api/v1/webhooks/${hook.id}/secret`).set(hook.org.auth).expect(200);
      assert.equal(read.body.secret, hook.secret);
      await assertDelivers(a, rx, hook, hook.secret);
    });

    test('rotation stores both secrets sealed (a 254-character secret fits) and both still sign', async () => {
      rotated = `whsec_${randomBytes(186).toString('base64')}`;
      const res = await app!.http
        .post(`/api/v1/webhooks/${hook.id}/secret/rotate`)
        .set(hook.org.auth)
        .send({ secret: rotated })
        .expect(200);
      assert.equal(res.body.secret, rotated);
      const stored = await storedSecrets(db.url, hook.id);
      assertSealed(stored.secret, keyIdOf(k1), rotated);
      assertSealed(stored.previous, keyIdOf(k1), hook.secret);
      await new Promise((r) => setTimeout(r, 300)); // the index learns of the change through Redis pub/sub
      await assertDelivers(app!, rx, hook, rotated, [hook.secret]);
    });

    test('SECRETS_KEY_PREVIOUS: the next start re-seals every row (plaintext rows of an older version too) with the new key', async () => {
      await stop();
      legacy = { org: hook.org, id: `wh_legacy${randomBytes(4).toString('hex')}`, secret: legacySecret, path: '/legacy' };
      await insertPlaintextWebhook(db.url, {
        id: legacy.id,
        organizationId: hook.org.id,
        url: `${rx.url}${legacy.path}`,
        events: ['message.*'],
        secret: legacySecret,
      });

      const a = await start({ SECRETS_KEY: k2.toString('hex'), SECRETS_KEY_PREVIOUS: k1.toString('base64') });
      const stored = await storedSecrets(db.url, hook.id);
      assertSealed(stored.secret, keyIdOf(k2), rotated);
      assertSealed(stored.previous, keyIdOf(k2), hook.secret);
      assertSealed((await storedSecrets(db.url, legacy.id)).secret, keyIdOf(k2), legacySecret);
      await assertDelivers(a, rx, hook, rotated, [hook.secret]);
      await assertDelivers(a, rx, legacy, legacySecret);
      const read = await a.http.get(`/api/v1/webhooks/${legacy.id}/secret`).set(hook.org.auth).expect(200);
      assert.equal(read.body.secret, legacySecret);
    });

    test('a key that cannot open the stored secrets stops the start with one clear line; nothing is changed', async () => {
      await stop();
      const before = await storedSecrets(db.url, hook.id);
      const wrong = newKey();
      const res = await failedStart({ REDIS_URL: redis.url, DATABASE_URL: db.url, SECRETS_KEY: wrong.toString('hex') });
      assert.equal(res.code, 1, res.fatal);
      const line = res.fatal;
      assert.ok(line.startsWith('humana-events: '), line);
      assert.match(line, /stored secrets cannot be opened/);
      assert.ok(line.includes(`sealed with key ${keyIdOf(k2)}`) && line.includes(`SECRETS_KEY is ${keyIdOf(wrong)}`), line);
      assert.deepEqual(await storedSecrets(db.url, hook.id), before);
      // The rotation is complete: the new key alone is enough.
      const a = await start({ SECRETS_KEY: k2.toString('base64') });
      await assertDelivers(a, rx, legacy, legacySecret);
    });
  });
}

test('without SECRETS_KEY outside production: a 0600 key file next to the SQLite file, reused on restart', async () => {
  const redis = await startPrivateRedis();
  const db = createTestDatabase('sqlite');
  const rx = await Receiver.start();
  const keyFile = path.join(path.dirname(db.url.slice('sqlite:'.length)), 'secrets.key');
  try {
    let app = await startTestApp({ redis, databaseUrl: db.url });
    const hook = await hookFor(app, rx.url, { events: ['message.*'] });
    await app.stop();
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    const content = readFileSync(keyFile, 'utf8');
    const fileKeyId = keyIdOf(decodeSecretsKey(content)!);
    assertSealed((await storedSecrets(db.url, hook.id)).secret, fileKeyId, hook.secret);

    app = await startTestApp({ redis, databaseUrl: db.url });
    try {
      assert.equal(readFileSync(keyFile, 'utf8'), content, 'the same key, not a new one');
      await assertDelivers(app, rx, hook, hook.secret);
    } finally {
      await app.stop();
    }
  } finally {
    await rx.close();
    await db.drop();
    await redis.destroy();
  }
});
