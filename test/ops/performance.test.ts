import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { startTestApp, type TestApp } from '../support/launcher.js';
import { Receiver } from '../support/receiver.js';
import { sleep, waitFor } from '../support/time.js';
import { hookFor, type Hook } from '../webhooks/fixtures.js';
import { historyOf, sampleEvent, type Envelope } from './helpers.js';

/** Short windows and a low threshold; the formula (p95 over the window, hysteresis at threshold × ratio) is the real one. */
const PERF_ENV = {
  PERF_CHECK_INTERVAL_MS: '250',
  PERF_WINDOW_MS: '1500',
  PERF_MIN_SAMPLES: '5',
  PERF_P95_THRESHOLD_MS: '300',
  PERF_ERROR_RATE_THRESHOLD: '0.5',
  PERF_RECOVERY_RATIO: '0.5',
};

describe('performance.degraded', () => {
  let app: TestApp;
  let rx: Receiver;
  let redis: Redis;
  before(async () => {
    app = await startTestApp({ env: PERF_ENV });
    rx = await Receiver.start();
    redis = new Redis(app.redis.url);
  });
  after(async () => {
    redis.disconnect();
    await app.close();
    await rx.close();
  });

  const degradedOf = async (hook: Hook): Promise<Envelope[]> => historyOf(app, hook.org, '&eventType=performance.degraded');

  test('p95 latency over the threshold is announced once, not again while it hovers above threshold × ratio, and again after a recovery', async () => {
    const hook = await hookFor(app, rx.url, { events: ['companion.activated'] });
    let delayMs = 500;
    rx.on(hook.path, () => ({ status: 200, delayMs }));
    let running = true;
    const traffic = (async () => {
      while (running) {
        await app.http.post('/api/v1/events').set(hook.org.auth).send(sampleEvent());
        await sleep(60);
      }
    })();
    const stateKey = `{humana}:perf-degraded:${hook.org.id}:delivery_latency_p95_ms`;
    try {
      const first = (await waitFor(async () => (await degradedOf(hook))[0], 15_000, 100)) as Envelope;
      assert.deepEqual(
        { ...first.data, value: undefined, timestamp: undefined },
        {
          service: 'webhook_delivery',
          metric: 'delivery_latency_p95_ms',
          threshold: 300,
          value: undefined,
          timestamp: undefined,
        },
      );
      assert.ok(Number(first.data.value) > 300);
      delayMs = 200; // between 150 (threshold × ratio) and 300: still degraded, nothing new
      await sleep(2_500);
      assert.equal(await redis.exists(stateKey), 1, 'still degraded');
      delayMs = 0;
      await waitFor(async () => (await redis.exists(stateKey)) === 0, 15_000, 100);
      assert.equal((await degradedOf(hook)).length, 1, 'one announcement for the whole episode');
      delayMs = 500;
      await waitFor(async () => (await degradedOf(hook)).length === 2, 15_000, 100);
    } finally {
      running = false;
      await traffic;
    }
  });

  test('an error rate over the threshold is announced to that organization only', async () => {
    const failing = await hookFor(app, rx.url, { events: ['companion.activated'], retry: { maxAttempts: 1 } });
    const healthy = await hookFor(app, rx.url, { events: ['companion.activated'] });
    rx.on(failing.path, () => ({ status: 500 }));
    for (let i = 0; i < 8; i++) {
      await app.http.post('/api/v1/events').set(failing.org.auth).send(sampleEvent(i)).expect(202);
      await app.http.post('/api/v1/events').set(healthy.org.auth).send(sampleEvent(i)).expect(202);
    }
    const [event] = (await waitFor(
      async () => {
        const found = await degradedOf(failing);
        return found.length ? found : null;
      },
      15_000,
      100,
    )) as Envelope[];
    assert.deepEqual([event.data.metric, event.data.value, event.data.threshold], ['delivery_error_rate', 1, 0.5]);
    await sleep(1_000);
    assert.equal((await degradedOf(failing)).length, 1);
    assert.equal((await degradedOf(healthy)).length, 0);
  });
});
