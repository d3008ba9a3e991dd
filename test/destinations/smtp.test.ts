import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { createOrg, startTestApp, type TestApp } from '../support/launcher.js';
import { waitFor } from '../support/time.js';
import { deliveryIn, dlqOf, publish } from '../webhooks/fixtures.js';
import { assertSignedMessage, destinationHook, SHORT_RETRY } from './support.js';

interface Mail {
  from: string;
  to: string[];
  user?: string;
  raw: string;
}

let app: TestApp;
let server: SMTPServer;
let port: number;
const mails: Mail[] = [];

/** Headers of a MIME entity (folded lines joined), lower-cased names. */
function headersOf(raw: string): Record<string, string> {
  const head = raw.split(/\r?\n\r?\n/)[0].replace(/\r?\n[ \t]+/g, ' ');
  const out: Record<string, string> = {};
  for (const line of head.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return out;
}

/** The MIME parts of a multipart message (recursively), each as its raw text. */
function partsOf(raw: string): string[] {
  const type = headersOf(raw)['content-type'] ?? '';
  const boundary = /boundary="?([^";]+)"?/.exec(type)?.[1];
  if (!boundary) return [raw];
  const body = raw.slice(raw.search(/\r?\n\r?\n/));
  return body
    .split(`--${boundary}`)
    .slice(1, -1)
    .flatMap((p) => partsOf(p.replace(/^\r?\n/, '')));
}

/** RFC 2047 encoded words (=?UTF-8?Q?…?= / =?UTF-8?B?…?=) decoded. */
function words(v: string): string {
  return v.replace(/\?=\s+=\?/g, '?==?').replace(/=\?UTF-8\?([QB])\?([^?]*)\?=/gi, (_m, enc: string, text: string) =>
    enc.toUpperCase() === 'B'
      ? Buffer.from(text, 'base64').toString('utf8')
      : Buffer.from(
          text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_x, h: string) => String.fromCharCode(parseInt(h, 16))),
          'latin1',
        ).toString('utf8'),
  );
}

function decoded(part: string): string {
  const h = headersOf(part);
  const body = part.slice(part.search(/\r?\n\r?\n/)).trim();
  if (h['content-transfer-encoding'] === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (h['content-transfer-encoding'] === 'quoted-printable')
    return body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, x: string) => String.fromCharCode(parseInt(x, 16)));
  return body;
}

before(async () => {
  app = await startTestApp();
  server = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === 'mailer' && auth.password === 's3cret') cb(null, { user: auth.username });
      else cb(new Error('Invalid username or password'));
    },
    onRcptTo(address, _session, cb) {
      if (address.address.startsWith('nobody@')) cb(Object.assign(new Error('No such user'), { responseCode: 550 }));
      else cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          user: session.user as string | undefined,
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        cb();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.server.address() as AddressInfo).port;
});
after(async () => {
  await app.close();
  await new Promise<void>((r) => server.close(() => r()));
});

describe('smtp destination', () => {
  test('an e-mail with subject, text and HTML bodies (escaped) and the envelope attached as JSON; headers verify', async () => {
    const org = await createOrg(app);
    const url = `smtp://mailer:s3cret@127.0.0.1:${port}?from=events@humana.test&to=a@example.test,b@example.test`;
    const hook = await destinationHook(app, org, url, { events: ['message.sent'] });
    assert.equal((await app.http.get(`/api/v1/webhooks/${hook.id}`).set(org.auth)).body.url, url.replace('mailer:s3cret@', 'mailer:***@'));
    const ev = await publish(app, org, 'message.sent', { companionId: '<script>x</script>', content: '<b>hi</b> & bye' });
    const mail = (await waitFor(() => mails.find((m) => m.raw.includes(ev.id))))!;
    assert.equal(mail.from, 'events@humana.test');
    assert.deepEqual(mail.to, ['a@example.test', 'b@example.test']);
    assert.equal(mail.user, 'mailer');
    const h = headersOf(mail.raw);
    assert.equal(
      words(h.subject),
      '[Humana Events] message.sent - companionId=<script>x</script>, userId=user-789, messageId=msg-1, type=text',
    );
    const parts = partsOf(mail.raw);
    const html = decoded(parts.find((p) => /text\/html/.test(headersOf(p)['content-type'] ?? ''))!);
    const text = decoded(parts.find((p) => /text\/plain/.test(headersOf(p)['content-type'] ?? ''))!);
    assert.ok(!html.includes('<script>') && !html.includes('<b>hi'), 'HTML escapes every value');
    assert.ok(html.includes('&lt;script&gt;'));
    assert.ok(text.includes('companionId: <script>x</script>'));
    const attachment = parts.find((p) => /event\.json/.test(headersOf(p)['content-disposition'] ?? ''))!;
    assert.match(headersOf(attachment)['content-type'], /application\/json/);
    const body = decoded(attachment);
    assert.deepEqual(JSON.parse(body), ev);
    assertSignedMessage(h, body, hook.secret, { eventId: ev.id, eventType: 'message.sent' });
    const d = await deliveryIn(app, hook, 'success');
    assert.match(d.attemptHistory[0].responseBody, /^250/);
  });

  test('a 5xx refusal is permanent: straight to the DLQ after one attempt', async () => {
    const org = await createOrg(app);
    const hook = await destinationHook(app, org, `smtp://127.0.0.1:${port}?from=events@humana.test&to=nobody@example.test`, {
      events: ['message.sent'],
      retry: SHORT_RETRY,
    });
    await publish(app, org, 'message.sent');
    const d = await deliveryIn(app, hook, 'failed');
    assert.equal(d.attemptHistory.length, 1);
    assert.equal(d.attemptHistory[0].errorKind, 'rejected');
    assert.match((await waitFor(async () => (await dlqOf(app, hook))[0])).failureReason, /550/);
  });

  test('a closed port: retried, then the DLQ', async () => {
    const org = await createOrg(app);
    const hook = await destinationHook(app, org, 'smtp://127.0.0.1:1?from=events@humana.test&to=a@example.test', {
      events: ['message.sent'],
      retry: SHORT_RETRY,
    });
    await publish(app, org, 'message.sent');
    const d = await deliveryIn(app, hook, 'failed', 15_000);
    assert.equal(d.attemptHistory.length, 2);
    assert.ok(
      d.attemptHistory.every((a) => a.errorKind === 'connection'),
      JSON.stringify(d.attemptHistory),
    );
  });
});
