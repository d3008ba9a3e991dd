import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config/config.js';
import { AppLogger } from '../../src/observability/app-logger.js';
import { nextDegradedState } from '../../src/observability/degradation.js';
import { Redactor } from '../../src/observability/redaction.js';
import { minuteWindow, monthWindow, retryAfterSeconds } from '../../src/quotas/windows.js';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('operations units', () => {
  test('redaction: keys, secrets, bearer/basic credentials, URL credentials and configured tokens never survive', () => {
    const r = new Redactor(['admin-token-with-any-shape-123']);
    const apiKey = 'hk_' + 'A'.repeat(32);
    const scrubbed = r.value({
      headers: { authorization: `Bearer ${apiKey}`, 'x-request-id': 'req-1' },
      webhook: { url: 'https://user:pa55@example.com/hook?token=abc&x=1', secret: 'my plain secret', keyId: 'key_1' },
      key: apiKey,
      note: `got ${apiKey} and whsec_${'b'.repeat(32)} and admin-token-with-any-shape-123`,
      tokensUsed: 25,
      nested: [{ apiKey: 'x' }, { password: 'p' }],
    });
    const text = JSON.stringify(scrubbed);
    for (const secret of [apiKey, 'my plain secret', 'pa55', 'token=abc', 'bbbbbbbb', 'admin-token-with-any-shape-123']) {
      assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
    }
    const s = scrubbed as { webhook: { keyId: string; url: string }; tokensUsed: number; headers: Record<string, string> };
    assert.equal(s.webhook.keyId, 'key_1', 'key ids are not secrets');
    assert.equal(s.tokensUsed, 25, 'counts named like secrets are kept');
    assert.equal(s.headers['x-request-id'], 'req-1');
    assert.equal(s.webhook.url, 'https://[redacted]@example.com/hook?token=[redacted]&x=1');
    assert.equal(
      r.text('GET /api/v1/events/stream?access_token=hk_secretsecret&events=a'),
      'GET /api/v1/events/stream?access_token=[redacted]&events=a',
    );
    assert.equal(r.text('Authorization: Basic dXNlcjpwYXNz'), 'Authorization: Basic [redacted]');
  });

  test('AppLogger: Nest calls become JSON lines with context, stack and structured fields; quiet contexts demoted', () => {
    const out = capture();
    const config = loadConfig({ LOG_LEVEL: 'info', ADMIN_TOKEN: 'admin-token-0123456789' });
    const logger = new AppLogger(config, out.stream);
    logger.log('hello', 'Ctx');
    logger.error('boom', 'Error: boom\n    at x (y.js:1:1)', 'Worker');
    logger.warn({ msg: 'delivery failed', eventId: 'evt_1', deliveryId: 'del_1', secret: 'whsec_zzzzzzzzzz' }, 'Delivery');
    logger.log('Mapped {/x, GET} route', 'RouterExplorer');
    logger.debug('not at info', 'Ctx');
    logger.log('token admin-token-0123456789 in a message');
    const lines = out.lines();
    assert.equal(lines.length, 4, JSON.stringify(lines));
    assert.deepEqual([lines[0].level, lines[0].context, lines[0].msg], ['info', 'Ctx', 'hello']);
    assert.deepEqual([lines[1].level, lines[1].context, lines[1].msg], ['error', 'Worker', 'boom']);
    assert.match(String(lines[1].stack), /at x/);
    assert.deepEqual([lines[2].eventId, lines[2].deliveryId, lines[2].secret], ['evt_1', 'del_1', '[redacted]']);
    assert.equal(lines[3].msg, 'token [redacted] in a message');
    assert.ok(lines.every((l) => typeof l.time === 'string' && l.service === 'humana-events'));
  });

  test('quota windows: calendar minute and UTC calendar month, Retry-After in whole seconds', () => {
    const now = Date.UTC(2025, 1, 28, 23, 59, 30, 250); // 28 Feb 2025 23:59:30.250
    const m = minuteWindow(now);
    assert.equal(m.resetsAt, Date.UTC(2025, 1, 28, 23, 60));
    assert.equal(retryAfterSeconds(m, now), 30);
    const mo = monthWindow(now);
    assert.equal(mo.id, '2025-02');
    assert.equal(mo.resetsAt, Date.UTC(2025, 2, 1));
    assert.equal(retryAfterSeconds(mo, now), 30);
    assert.equal(monthWindow(Date.UTC(2025, 11, 31, 12)).resetsAt, Date.UTC(2026, 0, 1));
    assert.equal(retryAfterSeconds(m, m.resetsAt - 1), 1, 'never 0');
  });

  test('performance hysteresis: enters above the threshold, leaves only below threshold × ratio', () => {
    const seq = [90, 101, 95, 85, 81, 79, 99, 100, 101];
    const states: boolean[] = [];
    let degraded = false;
    for (const v of seq) states.push((degraded = nextDegradedState(degraded, v, 100, 0.8)));
    assert.deepEqual(states, [false, true, true, true, true, false, false, false, true]);
  });
});
