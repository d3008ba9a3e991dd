import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { resolveRedis } from '../../src/config/redis-bootstrap.js';

describe('Redis Cluster and replication settings', () => {
  test('REDIS_CLUSTER_NODES: seed nodes, and a REDIS_URL naming the first so start-up never spawns a Redis', async () => {
    const c = loadConfig({ REDIS_CLUSTER_NODES: '10.0.0.1:7000, 10.0.0.2:7001' });
    assert.deepEqual(c.redisCluster, [
      { host: '10.0.0.1', port: 7000 },
      { host: '10.0.0.2', port: 7001 },
    ]);
    assert.equal(c.redisUrl, 'redis://10.0.0.1:7000?cluster=true');
    assert.deepEqual(await resolveRedis(c.redisUrl), { url: c.redisUrl }, 'auto mode is off in cluster mode');
  });

  test('REDIS_URL=…?cluster=true; credentials stay in REDIS_URL beside REDIS_CLUSTER_NODES', () => {
    assert.deepEqual(loadConfig({ REDIS_URL: 'redis://h:7000?cluster=true' }).redisCluster, [{ host: 'h', port: 7000 }]);
    assert.equal(loadConfig({ REDIS_URL: 'redis://h:6379' }).redisCluster, undefined, 'one server stays the default');
    assert.equal(loadConfig({ REDIS_URL: 'redis://h:6379?cluster=false' }).redisCluster, undefined);
    const both = loadConfig({ REDIS_URL: 'redis://u:secret@h:7000', REDIS_CLUSTER_NODES: 'a:1,b:2' });
    assert.equal(both.redisUrl, 'redis://u:secret@h:7000');
    assert.equal(both.redisCluster?.length, 2);
  });

  test('bad values are refused naming the variable', () => {
    assert.throws(() => loadConfig({ REDIS_CLUSTER_NODES: 'nohostport' }), /REDIS_CLUSTER_NODES/);
    assert.throws(() => loadConfig({ REDIS_CLUSTER_NODES: 'h:70000' }), /REDIS_CLUSTER_NODES/);
    assert.throws(() => loadConfig({ REDIS_URL: 'redis://h:7000/3?cluster=true' }), ConfigError);
    assert.throws(() => loadConfig({ REDIS_URL: 'redis://h:7000?cluster=maybe' }), /cluster=/);
    assert.throws(() => loadConfig({ REDIS_MIN_REPLICAS_ACK: '-1' }), /REDIS_MIN_REPLICAS_ACK/);
    assert.throws(() => loadConfig({ REDIS_WAIT_TIMEOUT_MS: '0' }), /REDIS_WAIT_TIMEOUT_MS/);
  });

  test('REDIS_MIN_REPLICAS_ACK defaults to 0 (no WAIT), REDIS_WAIT_TIMEOUT_MS to 1000', () => {
    const c = loadConfig({});
    assert.equal(c.redisMinReplicasAck, 0);
    assert.equal(c.redisWaitTimeoutMs, 1000);
  });
});
