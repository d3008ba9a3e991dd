import type { Transporter } from 'nodemailer';
import type { Destination, SchemeSpec, SendRequest, SendResult, UrlProblem } from './destination.js';
import {
  BrokerError,
  connectAddress,
  Connections,
  baseProblems,
  messageHeaders,
  sendThrough,
  withTimeout,
  type Channel,
} from './message.js';
import { escapeHtml, keyFieldsOf, summaryOf } from './summary.js';

const PER_MESSAGE = ['from', 'to'];
const EMAIL = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+$/;

export const smtpScheme: SchemeSpec = {
  transport: 'smtp',
  schemes: ['smtp:', 'smtps:'],
  validate(url: URL): UrlProblem[] {
    const problems = baseProblems(url, PER_MESSAGE);
    const from = url.searchParams.get('from');
    if (from && !EMAIL.test(from)) problems.push({ field: 'url.from', message: `"${from}" is not an e-mail address` });
    const to = url.searchParams.get('to');
    if (to) {
      const list = to.split(',').map((a) => a.trim());
      const bad = list.filter((a) => !EMAIL.test(a));
      if (bad.length) problems.push({ field: 'url.to', message: `not e-mail addresses: ${bad.join(', ')}` });
      if (list.length > 50) problems.push({ field: 'url.to', message: 'at most 50 recipients' });
    }
    if (url.pathname.length > 1) problems.push({ field: 'url', message: 'an smtp URL has no path' });
    return problems;
  },
};

function parseBody(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return null;
  }
}

/**
 * E-mail through an SMTP server (nodemailer, one pooled connection per server and credentials; smtps = implicit TLS,
 * smtp = STARTTLS when offered). Subject from the event type and its key fields, a plain-text and an HTML body (all
 * escaped), the body as sent attached as `event.json`, the signature headers as mail headers. Success = the server's
 * 250; a 5xx reply is a permanent refusal (`rejected`, straight to the DLQ), a 4xx one is retryable.
 */
export class SmtpDestination implements Destination {
  private readonly transports = new Connections<Transporter>(async (t) => t.close());

  constructor(private readonly allowPrivate: boolean) {}

  private async connect(url: URL, timeoutMs: number): Promise<Transporter> {
    const nodemailer = await import('nodemailer');
    const address = await connectAddress(url, this.allowPrivate);
    const secure = url.protocol === 'smtps:';
    return nodemailer.createTransport({
      host: address,
      port: url.port ? Number(url.port) : secure ? 465 : 587,
      secure,
      tls: { servername: url.hostname },
      ...(url.username ? { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } } : {}),
      pool: true,
      maxConnections: 1,
      connectionTimeout: timeoutMs,
      greetingTimeout: timeoutMs,
      socketTimeout: timeoutMs,
    });
  }

  private readonly channel: Channel<Transporter> = {
    perMessage: PER_MESSAGE,
    connections: this.transports,
    connect: (_key, url, timeoutMs) => this.connect(url, timeoutMs),
    failure: smtpError,
  };

  send(req: SendRequest): Promise<SendResult> {
    return sendThrough(req, this.channel, async (transport, _address, url) => {
      const event = req.event;
      const headers = messageHeaders(req.headers);
      const title = event ? summaryOf(event) : (headers['x-humana-event'] ?? 'event');
      const fields = event ? keyFieldsOf(event) : [];
      const pretty = JSON.stringify(parseBody(req.body) ?? req.body, null, 2);
      const text = [
        title,
        '',
        ...fields.map(([k, v]) => `${k}: ${v}`),
        '',
        `Event id: ${event?.id ?? headers['webhook-id']}`,
        '',
        pretty,
      ].join('\n');
      const html =
        `<h2>${escapeHtml(title)}</h2>` +
        (fields.length
          ? `<table>${fields.map(([k, v]) => `<tr><th align="left">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</table>`
          : '') +
        `<p>Event id: <code>${escapeHtml(event?.id ?? headers['webhook-id'] ?? '')}</code></p><pre>${escapeHtml(pretty)}</pre>`;
      const info = await withTimeout(
        transport.sendMail({
          from: url.searchParams.get('from') ?? '',
          to: (url.searchParams.get('to') ?? '').split(',').map((a) => a.trim()),
          subject: `[Humana Events] ${title}`.slice(0, 250),
          text,
          html,
          headers,
          attachments: [{ filename: 'event.json', content: req.body, contentType: 'application/json' }],
        }),
        req.timeoutMs,
        'sending the mail',
      );
      return String(info.response ?? '250');
    });
  }

  close(): Promise<void> {
    return this.transports.closeAll();
  }
}

function smtpError(err: unknown): unknown {
  const code = (err as { responseCode?: number }).responseCode;
  if (typeof code === 'number' && code >= 400) return new BrokerError(`SMTP ${(err as Error).message}`, code >= 500);
  return err;
}
