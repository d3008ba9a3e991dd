import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, redisAnswers, resolveRedis } from '../../src/config/redis-bootstrap.js';
import { startPrivateRedis } from '../support/redis.js';

test('REDIS_URL auto: uses a Redis that answers on the default port', async () => {
  const redis = await startPrivateRedis();
  try {
    const r = await resolveRedis(undefined, '/nonexistent', redis.port);
    assert.equal(r.url, `redis://127.0.0.1:${redis.port}`);
    assert.equal(r.child, undefined);
  } finally {
    await redis.destroy();
  }
});

test('REDIS_URL auto: spawns a private redis-server with AOF when nothing answers, and it stops', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'humana-auto-'));
  const unused = await freePort();
  const r = await resolveRedis(undefined, path.join(dir, 'redis'), unused);
  try {
    assert.ok(r.child, 'spawned');
    const port = Number(new URL(r.url).port);
    assert.ok(await redisAnswers('127.0.0.1', port));
    await new Promise((res) => setTimeout(res, 200));
    const files = readdirSync(path.join(dir, 'redis'), { recursive: true }).map(String);
    assert.ok(
      files.some((f) => f.includes('appendonly')),
      `AOF files in ${files.join(',')}`,
    );
  } finally {
    r.child!.kill('SIGTERM');
    await new Promise((res) => r.child!.once('exit', res));
    rmSync(dir, { recursive: true, force: true });
  }
  assert.ok(!existsSync(dir));
});

test('REDIS_URL set: used as is', async () => {
  assert.deepEqual(await resolveRedis('redis://example.invalid:1'), { url: 'redis://example.invalid:1' });
});

test('REDIS_URL auto: neither a Redis nor redis-server → one clear line on how to install Redis', async () => {
  const unused = await freePort();
  const savedPath = process.env.PATH;
  process.env.PATH = '/nonexistent';
  try {
    await assert.rejects(resolveRedis(undefined, '/tmp/unused', unused), (err: Error) => {
      assert.match(err.message, /install Redis/);
      assert.match(err.message, /apt-get install -y redis-server/);
      assert.doesNotMatch(err.message, /\n/);
      return true;
    });
  } finally {
    process.env.PATH = savedPath;
  }
});
