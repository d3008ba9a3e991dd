import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import amqp from 'amqplib';
import { Redis } from 'ioredis';
import mqtt from 'mqtt';
import { connect as natsConnect, type NatsConnection } from 'nats';
import { SMTPServer } from 'smtp-server';
import request from 'supertest';
import { freePort } from '../../src/config/redis-bootstrap.js';
import { createOrg, createTestDatabase, spawnApp, type AppProcess, type TestApp, type TestOrg } from '../support/launcher.js';
import { startPrivateRedis, type PrivateRedis } from '../support/redis.js';
import { waitFor } from '../support/time.js';
import { deliveryIn, publish } from '../webhooks/fixtures.js';
import { assertSignedMessage, destinationHook, unique } from './support.js';

/*
 * Every TLS scheme against a server with a certificate of a private CA this test makes with openssl. The app runs as
 * its own process with NODE_EXTRA_CA_CERTS (how an operator trusts a private CA: Node reads it at start-up, for every
 * client library). mqtts, rediss and nats: private mosquitto, redis-server and nats-server with TLS listeners; smtps:
 * smtp-server with `secure: true`; amqps: a TLS-terminating proxy in front of the machine's RabbitMQ.
 */

const dir = mkdtempSync(path.join(tmpdir(), 'humana-tls-'));
const file = (name: string) => path.join(dir, name);

/** `openssl` with its arguments as one string (no argument has a space: the files live in a mkdtemp folder). */
function openssl(args: string): void {
  const r = spawnSync('openssl', args.split(' '), { encoding: 'utf8', cwd: dir });
  assert.equal(r.status, 0, r.stderr);
}

/** A CA and a server certificate it signed, valid for 127.0.0.1 and localhost (readable by mosquitto's own user). */
function makeCertificates(): void {
  writeFileSync(file('san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  openssl('req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=humana-test-CA -keyout ca.key -out ca.pem');
  openssl('req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout server.key -out server.csr');
  openssl('x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile san.ext -out server.pem');
  chmodSync(dir, 0o755);
  for (const f of ['ca.pem', 'server.pem', 'server.key']) chmodSync(file(f), 0o644);
}

const children: ChildProcess[] = [];

/** A server binary of the machine on a private port; resolves once the port accepts connections. */
async function startServer(bin: string, args: string[], port: number): Promise<void> {
  const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  children.push(child);
  await waitFor(
    () =>
      new Promise<boolean>((resolve, reject) => {
        if (child.exitCode !== null) reject(new Error(`${bin} exited (${child.exitCode}): ${stderr}`));
        const s = net.connect(port, '127.0.0.1', () => resolve(!!s.end()));
        s.on('error', () => resolve(false));
      }),
    10_000,
    100,
  );
}

let redis: PrivateRedis;
let db: ReturnType<typeof createTestDatabase>;
let proc: AppProcess;
let app: TestApp;
let org: TestOrg;
const ports = { mqtts: 0, rediss: 0, smtps: 0, amqps: 0, nats: 0 };
const mails: { envelope: { to: string[] }; raw: string }[] = [];
let smtp: SMTPServer;
let proxy: tls.Server;

before(async () => {
  makeCertificates();
  for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
  const tlsFiles = { cert: file('server.pem'), key: file('server.key') };

  writeFileSync(
    file('mosquitto.conf'),
    `listener ${ports.mqtts} 127.0.0.1\ncafile ${file('ca.pem')}\ncertfile ${tlsFiles.cert}\nkeyfile ${tlsFiles.key}\nallow_anonymous true\npersistence false\n`,
  );
  writeFileSync(
    file('nats.conf'),
    `listen: "127.0.0.1:${ports.nats}"\ntls {\n  cert_file: "${tlsFiles.cert}"\n  key_file: "${tlsFiles.key}"\n}\n`,
  );
  await Promise.all([
    startServer('mosquitto', ['-c', file('mosquitto.conf')], ports.mqtts),
    startServer(
      'redis-server',
      [
        '--port',
        '0',
        '--tls-port',
        String(ports.rediss),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--tls-cert-file',
        tlsFiles.cert,
        '--tls-key-file',
        tlsFiles.key,
        '--tls-ca-cert-file',
        file('ca.pem'),
        '--tls-auth-clients',
        'no',
        '--dir',
        dir,
      ],
      ports.rediss,
    ),
    startServer('nats-server', ['-c', file('nats.conf')], ports.nats),
  ]);

  const key = readFileSync(tlsFiles.key);
  const cert = readFileSync(tlsFiles.cert);
  smtp = new SMTPServer({
    secure: true,
    key,
    cert,
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push({ envelope: { to: session.envelope.rcptTo.map((r) => r.address) }, raw: Buffer.concat(chunks).toString() });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(ports.smtps, '127.0.0.1', resolve));

  // amqps: TLS terminated here, plain AMQP on to the machine's RabbitMQ.
  proxy = tls.createServer({ key, cert }, (client) => {
    const upstream = net.connect(5672, '127.0.0.1');
    client.pipe(upstream).pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', close);
    upstream.on('close', close);
  });
  await new Promise<void>((resolve) => proxy.listen(ports.amqps, '127.0.0.1', resolve));

  redis = await startPrivateRedis();
  db = createTestDatabase('sqlite');
  proc = await spawnApp({ REDIS_URL: redis.url, DATABASE_URL: db.url, LOG_LEVEL: 'info', NODE_EXTRA_CA_CERTS: file('ca.pem') });
  app = { http: request(proc.url) } as TestApp;
  org = await createOrg(app);
});

after(async () => {
  await proc?.kill('SIGTERM');
  await redis?.destroy();
  await db?.drop();
  if (smtp) await new Promise<void>((resolve) => smtp.close(() => resolve()));
  if (proxy) await new Promise<void>((resolve) => proxy.close(() => resolve()));
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Creates a hook for `url`, publishes one event and returns what the delivery log says with the hook. */
async function deliverOnce(url: string) {
  const hook = await destinationHook(app, org, url, { events: ['message.sent'] });
  const ev = await publish(app, org, 'message.sent', { companionId: 'c1' });
  const delivery = await deliveryIn(app, hook, 'success', 15_000);
  return { hook, ev, delivery };
}

const ca = () => readFileSync(file('ca.pem'));

describe('TLS destinations (a private CA trusted through NODE_EXTRA_CA_CERTS)', () => {
  test('mqtts: published over TLS to a private mosquitto', async () => {
    const sub = await mqtt.connectAsync({ host: '127.0.0.1', port: ports.mqtts, protocol: 'mqtts', ca: ca(), protocolVersion: 5 });
    const got: { topic: string; body: string; props: Record<string, unknown> }[] = [];
    sub.on('message', (topic, payload, packet) =>
      got.push({ topic, body: payload.toString(), props: (packet.properties?.userProperties ?? {}) as Record<string, unknown> }),
    );
    await sub.subscribeAsync('tls/#', { qos: 1 });
    try {
      const { hook, ev } = await deliverOnce(`mqtts://127.0.0.1:${ports.mqtts}?topic=tls/{type}&qos=1`);
      const m = (await waitFor(() => got.find((g) => g.props['webhook-id'] === ev.id)))!;
      assert.equal(m.topic, 'tls/message.sent');
      assertSignedMessage(m.props, m.body, hook.secret, { eventId: ev.id, eventType: 'message.sent' });
    } finally {
      await sub.endAsync();
    }
  });

  test('rediss: XADD over TLS to a private redis-server', async () => {
    const stream = unique('tls-stream');
    const { hook, ev } = await deliverOnce(`rediss://127.0.0.1:${ports.rediss}/0?stream=${stream}`);
    const reader = new Redis({ host: '127.0.0.1', port: ports.rediss, tls: { ca: ca() } });
    try {
      const entries = (await reader.xrange(stream, '-', '+')) as [string, string[]][];
      assert.equal(entries.length, 1);
      const fields = Object.fromEntries(entries[0][1].map((v, i, a) => (i % 2 ? [] : [v, a[i + 1]])).filter((p) => p.length));
      assertSignedMessage(fields, fields.body, hook.secret, { eventId: ev.id, eventType: 'message.sent' });
    } finally {
      reader.disconnect();
    }
  });

  test('smtps: an e-mail over implicit TLS (smtp-server, secure: true)', async () => {
    const to = `${unique('ops')}@example.com`;
    const { ev } = await deliverOnce(`smtps://127.0.0.1:${ports.smtps}?from=alerts@example.com&to=${to}`);
    const mail = (await waitFor(() => mails.find((m) => m.envelope.to.includes(to))))!;
    assert.match(mail.raw, new RegExp(`webhook-id: ${ev.id}`, 'i'));
  });

  test('amqps: a confirmed publish through a TLS endpoint', async () => {
    const conn = await amqp.connect('amqp://guest:guest@127.0.0.1:5672');
    const ch = await conn.createChannel();
    const exchange = unique('humana-tls-x');
    await ch.assertExchange(exchange, 'topic', { autoDelete: true });
    const { queue } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(queue, exchange, '#');
    const got: amqp.ConsumeMessage[] = [];
    await ch.consume(queue, (m) => m && got.push(m), { noAck: true });
    try {
      const { hook, ev } = await deliverOnce(`amqps://guest:guest@127.0.0.1:${ports.amqps}/?exchange=${exchange}&routingKey={type}`);
      const m = (await waitFor(() => got.find((g) => g.properties.messageId === ev.id)))!;
      assertSignedMessage(m.properties.headers ?? {}, m.content.toString(), hook.secret, { eventId: ev.id, eventType: 'message.sent' });
    } finally {
      await conn.close();
    }
  });

  for (const [name, query] of [
    ['upgraded after INFO when the server requires it', ''],
    ['tls=true: required, the certificate checked against the URL host', '&tls=true'],
  ] as const) {
    test(`nats over TLS to a private nats-server: ${name}`, async () => {
      const nc: NatsConnection = await natsConnect({ servers: `127.0.0.1:${ports.nats}`, tls: { ca: ca().toString() } });
      const subject = `tls.${unique('s').replace(/-/g, '_')}`;
      const sub = nc.subscribe(subject, { max: 1 });
      await nc.flush();
      try {
        const { hook, ev } = await deliverOnce(`nats://127.0.0.1:${ports.nats}?subject=${subject}${query}`);
        for await (const m of sub) {
          const headers = Object.fromEntries([...m.headers!.keys()].map((k) => [k, m.headers!.get(k)]));
          assertSignedMessage(headers, m.string(), hook.secret, { eventId: ev.id, eventType: 'message.sent' });
        }
      } finally {
        await nc.close();
      }
    });
  }

  test('a certificate of an unknown CA is a failed attempt (never accepted unverified)', async () => {
    const r2 = await startPrivateRedis();
    const db2 = createTestDatabase('sqlite');
    const stranger = await spawnApp({ REDIS_URL: r2.url, DATABASE_URL: db2.url, LOG_LEVEL: 'info' });
    try {
      const other = { http: request(stranger.url) } as TestApp;
      const o = await createOrg(other);
      const hook = await destinationHook(other, o, `mqtts://127.0.0.1:${ports.mqtts}?topic=tls/x`, {
        events: ['message.sent'],
        retry: { maxAttempts: 1, backoffMultiplier: 1, maxDelay: 1 },
      });
      await publish(other, o, 'message.sent');
      const d = await deliveryIn(other, hook, 'failed', 15_000);
      assert.match(String(d.attemptHistory[0].error), /certificate|self.signed|unable to verify/i);
    } finally {
      await stranger.kill('SIGTERM');
      await r2.destroy();
      await db2.drop();
    }
  });
});
