import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bareHost, isForbiddenAddress } from '../../src/destinations/url-guard.js';
import { createOrg, startTestApp, type TestApp, type TestOrg } from '../support/launcher.js';

const REFUSED = [
  // IPv4 special-purpose ranges
  '0.0.0.0',
  '0.1.2.3',
  '10.0.0.1',
  '10.255.255.255',
  '100.64.0.1',
  '100.127.255.254',
  '127.0.0.1',
  '127.1.2.3',
  '169.254.169.254',
  '172.16.0.1',
  '172.31.255.255',
  '192.0.0.8',
  '192.0.2.1',
  '192.88.99.1',
  '192.168.1.1',
  '198.18.0.1',
  '198.19.255.255',
  '198.51.100.7',
  '203.0.113.9',
  '224.0.0.1',
  '239.255.255.250',
  '240.0.0.1',
  '255.255.255.255',
  // IPv6 outside global unicast
  '::',
  '::1',
  'fe80::1',
  'fc00::1',
  'fd12:3456::1',
  'ff02::1',
  '100::1',
  '5f00::1',
  // IPv4-compatible (the reproduced bypass), mapped, translated, NAT64, 6to4 with a private IPv4 inside
  '::7f00:1',
  '::127.0.0.1',
  '::a9fe:a9fe',
  '::10.0.0.1',
  '::ffff:127.0.0.1',
  '::ffff:a9fe:a9fe',
  '::ffff:0:7f00:1',
  '64:ff9b::7f00:1',
  '64:ff9b::a9fe:a9fe',
  '64:ff9b:1::a00:1',
  '2002:7f00:1::1',
  '2002:a9fe:a9fe::',
  '2002:c0a8:101::5',
  // special ranges inside 2000::/3
  '2001:db8::1',
  '2001::1',
  '2001:0:4136:e378:8000:63bf:3fff:fdd2',
  '2001:2::1',
  '2001:10::1',
  '2001:20::1',
  '3fff::1',
  // not an address at all
  'localhost',
  '',
  '0x7f.1',
];

const ALLOWED = [
  '8.8.8.8',
  '1.1.1.1',
  '93.184.216.34',
  '9.255.255.255',
  '11.0.0.1',
  '100.63.255.255',
  '100.128.0.1',
  '126.255.255.255',
  '128.0.0.1',
  '169.253.255.255',
  '172.15.255.255',
  '172.32.0.1',
  '192.0.1.1',
  '192.167.255.255',
  '192.169.0.1',
  '198.17.255.255',
  '198.20.0.1',
  '223.255.255.254',
  '2606:4700:4700::1111',
  '2001:4860:4860::8888',
  '2a00:1450:4001:82a::200e',
  '2400:cb00::1',
  '2001:200::1',
  '::ffff:8.8.8.8',
  '::8.8.8.8',
  '64:ff9b::808:808',
  '2002:808:808::1',
  '3000::1',
];

describe('SSRF guard: address allow-list', () => {
  test(`refuses ${REFUSED.length} non-public addresses (IPv4 special ranges, non-global IPv6, embedded private IPv4)`, () => {
    const passed = REFUSED.filter((a) => !isForbiddenAddress(a));
    assert.deepEqual(passed, [], 'these must be refused');
  });

  test(`allows ${ALLOWED.length} public addresses (IPv4 unicast, global IPv6, embedded public IPv4)`, () => {
    const refused = ALLOWED.filter((a) => isForbiddenAddress(a));
    assert.deepEqual(refused, [], 'these are public');
  });

  test('decimal, octal, hex and short IPv4 host forms: WHATWG URL normalises them to dotted quads, which are then refused', () => {
    for (const url of [
      'http://2130706433/',
      'http://0x7f.1/',
      'http://017700000001/',
      'http://127.1/',
      'http://0x7f000001/',
      'http://0251.0376.0251.0376/',
    ]) {
      const host = bareHost(new URL(url).hostname);
      assert.match(host, /^\d+\.\d+\.\d+\.\d+$/, url);
      assert.ok(isForbiddenAddress(host), `${url} → ${host} must be refused`);
    }
    assert.equal(new URL('http://[::127.0.0.1]:8080/').hostname, '[::7f00:1]');
    assert.ok(isForbiddenAddress(bareHost('[::7f00:1]')));
  });
});

describe('SSRF guard: webhook create with the reproduced URLs (ALLOW_PRIVATE_WEBHOOK_URLS=false)', () => {
  let app: TestApp;
  let org: TestOrg;
  before(async () => {
    app = await startTestApp({ env: { ALLOW_PRIVATE_WEBHOOK_URLS: 'false', ROLE: 'api' } });
    org = await createOrg(app);
  });
  after(() => app.close());

  test('IPv4-compatible IPv6, NAT64, 6to4 and numeric IPv4 hosts → 400 naming url', async () => {
    const urls = [
      'http://[::127.0.0.1]:8080/',
      'http://[::a9fe:a9fe]/',
      'http://[64:ff9b::a9fe:a9fe]/',
      'http://[2002:7f00:1::1]/',
      'http://[2001:db8::1]/',
      'http://2130706433/',
      'http://0x7f.1/',
    ];
    for (const url of urls) {
      const res = await app.http
        .post('/api/v1/webhooks')
        .set(org.auth)
        .send({ url, events: ['*'] });
      assert.equal(res.status, 400, `${url} → ${res.status} ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.code, 'validation_error');
      assert.deepEqual(
        res.body.error.details.map((d: { field: string }) => d.field),
        ['url'],
        url,
      );
    }
    const list = await app.http.get('/api/v1/webhooks').set(org.auth).expect(200);
    assert.equal(list.body.webhooks.length, 0);
  });
});
